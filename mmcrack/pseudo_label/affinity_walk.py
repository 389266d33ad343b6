"""CAM + learned-affinity random walk + dense CRF labels (AffinityNet-style).

A part of the paper's "CRF+RW labels" comparison (Wang et al.), built at CPU
scale; **not** that method: its first step, refining the CAM by
sub-category exploration (an extra classifier training round on k-means
sub-classes of the crack / no-crack features), is not here, and the
affinity network is a small CNN trained from scratch instead of a deep
backbone (docs/pseudo_labels.md says what is missing). What is here:

1. ``cam``: the Grad-CAM of the crack-patch classifier, as in the CRF labels
   (:meth:`CRFLabelGenerator.cam`);
2. training round (:func:`train_affinity_net`): confident regions of the
   training images from two dense CRFs of the CAM with the background score
   ``(1 - cam) ** alpha`` strengthened (``confidence.fg_alpha`` < 1:
   confident crack) and weakened (``confidence.bg_alpha`` > 1: confident
   background); pixel pairs within ``affinity.radius`` cells of the
   stride-``affinity.stride`` feature grid get the target 1 (both confident,
   same class), 0 (both confident, different classes) or are ignored; a
   small CNN (:class:`PixelAffinityNet`) learns features whose affinity
   ``exp(-mean |f_i - f_j|)`` fits them (AffinityNet's loss: crack-crack,
   background-background and cross pairs balanced 1/4, 1/4, 1/2);
3. ``walk``: the CAM and the background score on the feature grid are
   propagated by the random walk ``v <- T v``, ``T = D^-1 A^beta``
   (:func:`random_walk`), ``walk.steps`` times, and their ratio upsampled is
   the crack probability;
4. ``crf`` + ``output``: that map through the dense CRF and the binary
   label, as in the CRF labels.

``AffinityWalkLabelGenerator`` has the generator contract (``output``,
``checkpoint_path``, ``settings()``, ``__call__``) and its preset is
``configs/_base_/pseudo_label/affinity_walk.py`` (the CRF-label preset plus
``confidence``, ``affinity``, ``walk``); ``affinity.checkpoint`` names the
trained network (:func:`save_affinity_net`).
"""
import copy
import itertools
import os.path as osp
import warnings
from typing import Callable, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmcrack.registry import TASK_UTILS

from .crf_label_generator import CRFLabelGenerator
from .generator import PseudoLabel, as_rgb_uint8
from .localization import upsample_map
from .presets import load_preset, merge_settings

__all__ = [
    'PixelAffinityNet', 'neighbour_offsets', 'pair_affinities',
    'random_walk', 'confident_regions', 'affinity_targets',
    'affinity_loss', 'train_affinity_net', 'save_affinity_net',
    'load_affinity_net', 'AffinityWalkLabelGenerator'
]

#: Steps of the CRF-label preset that the inner CRFLabelGenerator takes.
_CRF_STEPS = ('cam', 'crf', 'output', 'channels_last')
IGNORE = 255


class PixelAffinityNet(nn.Module):
    """A small CNN: normalised image -> features at stride 4.

    Args:
        width: channels of the first stage (the others have 2x).
        feature_dim: channels of the output features.

    Input (B, 3, H, W) float (the classifier's normalisation); output
    (B, feature_dim, ceil(H / 4), ceil(W / 4)) float.
    """
    stride = 4

    def __init__(self, width: int = 16, feature_dim: int = 32):
        super().__init__()
        self.width, self.feature_dim = int(width), int(feature_dim)
        w = self.width

        def block(cin, cout, stride=1, dilation=1):
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, stride, dilation, dilation),
                nn.GroupNorm(4, cout), nn.ReLU(inplace=True))

        self.stage1 = nn.Sequential(block(3, w), block(w, w))
        self.stage2 = nn.Sequential(block(w, 2 * w, 2), block(2 * w, 2 * w))
        self.stage3 = nn.Sequential(block(2 * w, 2 * w, 2),
                                    block(2 * w, 2 * w, dilation=2),
                                    block(2 * w, 2 * w, dilation=4))
        self.head = nn.Conv2d(w + 4 * w, self.feature_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        size = (-(-h // 4), -(-w // 4))
        s1 = self.stage1(x)  # stride 1
        s2 = self.stage2(s1)  # stride 2
        s3 = self.stage3(s2)  # stride 4: already ``size``
        return self.head(torch.cat([
            F.adaptive_avg_pool2d(s1, size),
            F.adaptive_avg_pool2d(s2, size), s3
        ], 1))


def neighbour_offsets(radius: int, half: bool = False) -> List[Tuple[int,
                                                                    int]]:
    """Offsets ``(dy, dx)`` with ``dy^2 + dx^2 < radius^2``.

    Args:
        radius: > 0, in grid cells.
        half: only one of each pair ``(dy, dx)`` / ``(-dy, -dx)`` and no
            ``(0, 0)`` (the training pairs); else all of them including
            ``(0, 0)`` (the random walk).
    """
    if radius < 1:
        raise ValueError(f'radius must be >= 1, got {radius}')
    out = []
    for dy, dx in itertools.product(range(-radius + 1, radius), repeat=2):
        if dy * dy + dx * dx >= radius * radius:
            continue
        if half and (dy < 0 or (dy == 0 and dx <= 0)):
            continue
        out.append((dy, dx))
    return out


def _shifted(t: torch.Tensor, dy: int, dx: int):
    """Views ``(a, b)`` of the last two dims of ``t`` with ``b`` at offset
    ``(dy, dx)`` from ``a`` (both over the positions where both exist)."""
    h, w = t.shape[-2:]
    ya, yb = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (
        slice(-dy, h), slice(0, h + dy))
    xa, xb = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (
        slice(-dx, w), slice(0, w + dx))
    return t[..., ya, xa], t[..., yb, xb]


def pair_affinities(features: torch.Tensor, dy: int,
                    dx: int) -> torch.Tensor:
    """``exp(-mean_d |f_i - f_j|)`` of every pair at offset ``(dy, dx)``.

    Args:
        features: (B, D, h, w) float.

    Returns:
        (B, h - |dy|, w - |dx|) in (0, 1]: entry ``[b, y, x]`` pairs the
        cell ``(y, x)`` of the overlap with the cell ``(dy, dx)`` from it.
    """
    a, b = _shifted(features, dy, dx)
    return torch.exp(-(a - b).abs().mean(dim=1))


def random_walk(features: torch.Tensor, maps: np.ndarray, radius: int = 5,
                beta: float = 8.0, steps: int = 8) -> np.ndarray:
    """Propagate maps by the random walk of the learned affinities.

    ``A_ij = exp(-mean_d |f_i - f_j|)`` for cells closer than ``radius``
    (``A_ii = 1``), 0 otherwise; ``T = D^-1 A^beta`` (element-wise power,
    rows normalised); each map ``v`` becomes ``T^steps v``.

    Args:
        features: (D, h, w) float tensor.
        maps: (K, h, w) float maps on the same grid.
        radius: neighbourhood radius in cells (>= 1).
        beta: power of the affinities (> 0).
        steps: walk steps (>= 0).

    Returns:
        (K, h, w) float32.
    """
    import scipy.sparse as sp
    maps = np.asarray(maps, np.float64)
    d, h, w = features.shape
    if maps.ndim != 3 or maps.shape[1:] != (h, w):
        raise ValueError(f'maps must be (K, {h}, {w}), got {maps.shape}')
    if not beta > 0 or steps < 0:
        raise ValueError(f'need beta > 0 and steps >= 0, got {beta}, '
                         f'{steps}')
    index = np.arange(h * w).reshape(h, w)
    rows, cols, vals = [], [], []
    with torch.no_grad():
        for dy, dx in neighbour_offsets(radius):
            aff = pair_affinities(features[None].float(), dy, dx)[0]
            ia, ib = _shifted(torch.from_numpy(index), dy, dx)
            rows.append(ia.reshape(-1).numpy())
            cols.append(ib.reshape(-1).numpy())
            vals.append(aff.double().pow(beta).reshape(-1).cpu().numpy())
    a = sp.csr_matrix((np.concatenate(vals),
                       (np.concatenate(rows), np.concatenate(cols))),
                      shape=(h * w, h * w))
    t = sp.diags(1.0 / np.asarray(a.sum(axis=1)).ravel()) @ a
    v = maps.reshape(len(maps), -1).T
    for _ in range(int(steps)):
        v = t @ v
    return v.T.reshape(maps.shape).astype(np.float32)


def _crack_probability(cam: np.ndarray, alpha: float) -> np.ndarray:
    """``cam / (cam + (1 - cam) ** alpha)`` (0 where both are 0)."""
    cam = np.asarray(cam, np.float64)
    bg = (1.0 - cam) ** alpha
    total = cam + bg
    return np.where(total > 0, cam / np.where(total > 0, total, 1), 0.0)


def confident_regions(crf_generator: CRFLabelGenerator, cam: np.ndarray,
                      img_rgb: np.ndarray, fg_alpha: float = 0.25,
                      bg_alpha: float = 4.0) -> np.ndarray:
    """Confident crack / background pixels of a CAM (training labels).

    Two dense CRFs (the generator's ``crf`` settings) of
    ``cam / (cam + (1 - cam) ** alpha)``: crack where the CRF with
    ``fg_alpha`` (< 1, background strengthened) still says crack,
    background where the one with ``bg_alpha`` (> 1, background weakened)
    still says background, the rest unsure.

    Args:
        crf_generator: gives :meth:`CRFLabelGenerator.refine`.
        cam: float (H, W) in [0, 1].
        img_rgb: uint8 RGB (H, W, 3).

    Returns:
        uint8 (H, W): 1 crack, 0 background, 255 unsure.
    """
    if not 0 < fg_alpha <= bg_alpha:
        raise ValueError(f'need 0 < fg_alpha <= bg_alpha, got {fg_alpha}, '
                         f'{bg_alpha}')
    fg = crf_generator.refine(_crack_probability(cam, fg_alpha),
                              img_rgb) > 0.5
    bg = crf_generator.refine(_crack_probability(cam, bg_alpha),
                              img_rgb) <= 0.5
    out = np.full(cam.shape, IGNORE, np.uint8)
    out[bg] = 0
    out[fg & ~bg] = 1
    return out


def affinity_targets(regions: np.ndarray, stride: int) -> np.ndarray:
    """Confident regions on the feature grid.

    A ``stride`` x ``stride`` cell is crack when any of its pixels is
    confident crack and none is confident background (cracks are thinner
    than a cell), background when all its pixels are confident background,
    else unsure (255).

    Args:
        regions: uint8 (H, W) in {0, 1, 255}.

    Returns:
        uint8 (ceil(H / stride), ceil(W / stride)) in {0, 1, 255}.
    """
    h, w = regions.shape
    hp, wp = -(-h // stride) * stride, -(-w // stride) * stride
    padded = np.full((hp, wp), IGNORE, np.uint8)
    padded[:h, :w] = regions
    cells = padded.reshape(hp // stride, stride, wp // stride, stride)
    crack = (cells == 1).any(axis=(1, 3))
    bg_any = (cells == 0).any(axis=(1, 3))
    bg_all = (cells == 0).all(axis=(1, 3))
    out = np.full(crack.shape, IGNORE, np.uint8)
    out[crack & ~bg_any] = 1
    out[bg_all] = 0
    return out


def affinity_loss(features: torch.Tensor, targets: torch.Tensor,
                  radius: int) -> Tuple[torch.Tensor, dict]:
    """AffinityNet's balanced loss on the pairs within ``radius``.

    ``-mean log a`` over crack-crack pairs / 4 + over background-background
    pairs / 4, ``-mean log(1 - a)`` over cross pairs / 2 (a term without
    pairs is left out).

    Args:
        features: (B, D, h, w) float.
        targets: (B, h, w) uint8/long in {0, 1, 255}.
        radius: in cells.

    Returns:
        the loss (scalar tensor) and the pair counts.
    """
    terms = dict(fg=[], bg=[], neg=[])
    for dy, dx in neighbour_offsets(radius, half=True):
        aff = pair_affinities(features, dy, dx)
        ta, tb = _shifted(targets, dy, dx)
        known = (ta != IGNORE) & (tb != IGNORE)
        terms['fg'].append(aff[known & (ta == 1) & (tb == 1)])
        terms['bg'].append(aff[known & (ta == 0) & (tb == 0)])
        terms['neg'].append(aff[known & (ta != tb)])
    loss = features.new_zeros(())
    counts = {}
    for key, weight in (('fg', 0.25), ('bg', 0.25), ('neg', 0.5)):
        a = torch.cat(terms[key])
        counts[key] = int(a.numel())
        if a.numel():
            nll = -torch.log(a.clamp_min(1e-5)) if key != 'neg' else \
                -torch.log((1 - a).clamp_min(1e-5))
            loss = loss + weight * nll.mean()
    return loss, counts


def train_affinity_net(crf_generator: CRFLabelGenerator,
                       images: Sequence[np.ndarray],
                       confidence: Optional[dict] = None,
                       affinity: Optional[dict] = None,
                       log: Optional[Callable[[str], None]] = print):
    """The training round: an affinity network from CAM-derived pairs.

    Args:
        crf_generator: the CRF-label generator whose ``cam`` / ``refine``
            give the CAMs and the confident regions (its classifier
            normalises the network's input).
        images: uint8 RGB (H, W, 3) training images (no masks).
        confidence: ``fg_alpha``, ``bg_alpha`` (:func:`confident_regions`);
            default the ``affinity_walk`` preset's.
        affinity: ``width``, ``feature_dim``, ``radius``, ``iterations``,
            ``crop_size``, ``batch_size``, ``lr``, ``seed`` (the preset's
            ``affinity`` step; ``checkpoint`` is ignored here).
        log: progress lines (None: silent).

    Returns:
        ``(net, stats)``: the trained :class:`PixelAffinityNet` (eval mode,
        CPU) and a dict with the loss of the first and last 10 iterations
        and the pair counts.
    """
    preset = load_preset('affinity_walk')
    conf = merge_settings(preset['confidence'], confidence or {})
    aff = merge_settings(preset['affinity'], affinity or {})
    if not images:
        raise ValueError('no training images')
    clf = crf_generator.classifier
    crop, stride = int(aff['crop_size']), PixelAffinityNet.stride
    if crop % stride:
        raise ValueError(f'affinity.crop_size must be a multiple of '
                         f'{stride}, got {crop}')
    inputs, targets = [], []
    for img in images:
        img = as_rgb_uint8(img)
        cam = crf_generator.cam(img)
        regions = confident_regions(crf_generator, cam, img,
                                    conf['fg_alpha'], conf['bg_alpha'])
        ph, pw = max(0, crop - img.shape[0]), max(0, crop - img.shape[1])
        if ph or pw:  # small images: reflect to one crop, unsure padding
            img = cv2.copyMakeBorder(img, 0, ph, 0, pw, cv2.BORDER_REFLECT)
            regions = cv2.copyMakeBorder(regions, 0, ph, 0, pw,
                                         cv2.BORDER_CONSTANT, value=IGNORE)
        with torch.no_grad():
            inputs.append(clf.normalise(img).cpu())
        targets.append(torch.from_numpy(regions))
    gen = torch.Generator().manual_seed(int(aff['seed']))
    torch.manual_seed(int(aff['seed']))
    net = PixelAffinityNet(aff['width'], aff['feature_dim'])
    opt = torch.optim.Adam(net.parameters(), lr=float(aff['lr']))
    losses, counts = [], dict(fg=0, bg=0, neg=0)
    net.train()
    for it in range(int(aff['iterations'])):
        xs, ts = [], []
        for _ in range(int(aff['batch_size'])):
            i = int(torch.randint(len(inputs), (1, ), generator=gen))
            h, w = inputs[i].shape[-2:]
            y = int(torch.randint(h - crop + 1, (1, ), generator=gen))
            x = int(torch.randint(w - crop + 1, (1, ), generator=gen))
            flip = bool(torch.randint(2, (1, ), generator=gen))
            xi = inputs[i][:, y:y + crop, x:x + crop]
            ti = targets[i][y:y + crop, x:x + crop]
            if flip:
                xi, ti = xi.flip(-1), ti.flip(-1)
            xs.append(xi)
            ts.append(torch.from_numpy(
                affinity_targets(ti.numpy(), stride)))
        loss, n = affinity_loss(net(torch.stack(xs)), torch.stack(ts),
                                int(aff['radius']))
        for k in counts:
            counts[k] += n[k]
        if loss.requires_grad:
            opt.zero_grad()
            loss.backward()
            opt.step()
        losses.append(loss.item())
        if log is not None and (it + 1) % 50 == 0:
            log(f'affinity iter {it + 1}/{aff["iterations"]}: loss '
                f'{np.mean(losses[-50:]):.4f}')
    net.eval()
    missing = [k for k in ('fg', 'neg') if not counts[k]]
    if missing:
        warnings.warn(
            f'affinity training saw no {" / ".join(missing)} pairs: the '
            'confident crack regions are empty (thin cracks smoothed away '
            'by the crf settings? try the CRF grid search, or lower '
            'confidence.fg_alpha)')
    stats = dict(first_loss=float(np.mean(losses[:10])) if losses else None,
                 last_loss=float(np.mean(losses[-10:])) if losses else None,
                 pairs=counts, images=len(images))
    return net, stats


def save_affinity_net(path: str, net: PixelAffinityNet,
                      meta: Optional[dict] = None) -> str:
    """Save a trained network (weights, its width / feature_dim, ``meta``)
    atomically; returns ``path``."""
    import io

    from mmcrack.utils.file_io import atomic_write_bytes
    buf = io.BytesIO()
    torch.save(dict(state_dict=net.state_dict(),
                    width=net.width, feature_dim=net.feature_dim,
                    meta=dict(meta or {})), buf)
    atomic_write_bytes(path, buf.getvalue())
    return path


def load_affinity_net(path: str, device='cpu') -> PixelAffinityNet:
    """The network saved by :func:`save_affinity_net`, eval mode."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'affinity network not found: {path}')
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    net = PixelAffinityNet(ckpt['width'], ckpt['feature_dim'])
    net.load_state_dict(ckpt['state_dict'])
    return net.to(device).eval()


@TASK_UTILS.register_module()
class AffinityWalkLabelGenerator:
    """Labels from the CAM propagated by a learned-affinity random walk and
    refined by a dense CRF (see the module docstring; not the paper's
    CRF+RW labels: no sub-category exploration).

    Args:
        classifier_config, classifier_checkpoint (str): the crack-patch
            classifier (as for :class:`CRFLabelGenerator`).
        device (str): ``'cpu'``, ``'cuda'``, ...
        preset (str): default ``'affinity_walk'``.
        cam, crf, output, channels_last: as for
            :class:`CRFLabelGenerator`.
        confidence (dict): ``fg_alpha``, ``bg_alpha`` (training labels).
        affinity (dict): ``checkpoint`` (the trained network, required
            here) and the training settings of :func:`train_affinity_net`.
        walk (dict): ``radius`` (cells), ``beta``, ``steps``, ``bg_alpha``
            (background score ``(1 - cam) ** bg_alpha`` walked beside the
            CAM).
    """

    def __init__(self,
                 classifier_config: str,
                 classifier_checkpoint: str,
                 device: str = 'cpu',
                 preset: str = 'affinity_walk',
                 **settings):
        self.settings_ = merge_settings(load_preset(preset), settings)
        s = self.settings_
        self.crf_labels = CRFLabelGenerator(
            classifier_config, classifier_checkpoint, device,
            **{k: s[k] for k in _CRF_STEPS})
        self.output = self.crf_labels.output
        self.checkpoint_path = classifier_checkpoint
        if s['affinity']['checkpoint'] is None:
            raise ValueError(
                'AffinityWalkLabelGenerator: affinity.checkpoint is not set; '
                'train the affinity network first (mmcrack.pseudo_label.'
                'affinity_walk.train_affinity_net + save_affinity_net)')
        self.net = load_affinity_net(s['affinity']['checkpoint'],
                                     self.crf_labels.classifier.device)

    def settings(self) -> dict:
        """All step settings (JSON-serialisable), e.g. for cache keys."""
        return copy.deepcopy(self.settings_)

    def walk(self, cam: np.ndarray, img_rgb: np.ndarray) -> np.ndarray:
        """Step 3: the random-walk crack probability at image size.

        Args:
            cam: float (H, W) in [0, 1].
            img_rgb: uint8 RGB (H, W, 3).

        Returns:
            float32 (H, W) in [0, 1].
        """
        s = self.settings_['walk']
        h, w = cam.shape
        with torch.no_grad():
            feats = self.net(self.crf_labels.classifier.normalise(
                img_rgb)[None])[0].cpu()
        gh, gw = feats.shape[-2:]
        small = cv2.resize(np.asarray(cam, np.float32), (gw, gh),
                           interpolation=cv2.INTER_AREA)
        bg = (1.0 - small) ** float(s['bg_alpha'])
        walked = random_walk(feats, np.stack([bg, small]), s['radius'],
                             s['beta'], s['steps'])
        total = walked.sum(axis=0)
        prob = np.where(total > 0, walked[1] / np.where(total > 0, total, 1),
                        0).astype(np.float32)
        return upsample_map(np.clip(prob, 0, 1), (h, w), 'bilinear')

    def __call__(self, img: np.ndarray, return_stages: bool = False,
                 name: str = 'image') -> PseudoLabel:
        """Label one image.

        Args:
            img: uint8 RGB (H, W, 3) (grey / RGBA / 16-bit converted with a
                warning).
            return_stages: also return float32 (H, W) maps ``cam``,
                ``walk`` and ``crf_prob``.
            name: used in warnings.
        """
        img = as_rgb_uint8(img, name)
        cam = self.crf_labels.cam(img)
        walked = self.walk(cam, img)
        soft = self.crf_labels.refine(walked, img)
        label = self.output.label(soft)
        stages = dict(cam=cam, walk=walked,
                      crf_prob=soft) if return_stages else {}
        return PseudoLabel(soft=soft, label=label,
                           keep=self.output.keep(int(label.sum())),
                           stages=stages)
