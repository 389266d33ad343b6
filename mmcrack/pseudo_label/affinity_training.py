"""The training round of the affinity walk labels: confident regions of the
training images from two dense CRFs of the CAM, pixel-pair targets on the
feature grid, AffinityNet's balanced pair loss, and the training loop
(docs/pseudo_labels.md)."""
import warnings
from typing import Callable, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from .affinity_net import (
    IGNORE,
    PixelAffinityNet,
    neighbour_offsets,
    pair_affinities,
    shifted,
)
from .crf_label_generator import CRFLabelGenerator
from .generator import as_rgb_uint8
from .presets import load_preset, merge_settings


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
        ta, tb = shifted(targets, dy, dx)
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
