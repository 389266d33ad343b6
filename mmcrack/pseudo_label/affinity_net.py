"""The affinity network and its random walk (AffinityNet-style), used by
:mod:`.affinity_walk`: a small CNN whose features give pixel affinities
``exp(-mean |f_i - f_j|)`` between neighbours on a stride-``s`` grid, and the
walk ``v <- T v``, ``T = D^-1 A^beta`` that propagates maps along them."""
import itertools
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

#: label of an unknown (ignored) cell or pair target
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


def shifted(t: torch.Tensor, dy: int, dx: int):
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
    a, b = shifted(features, dy, dx)
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
            ia, ib = shifted(torch.from_numpy(index), dy, dx)
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
