"""Thresholding branch of the pseudo-label generator (paper §III-D).

Steps:

1. :func:`bilateral_filter` — edge-preserving smoothing (``d=2``,
   ``sigma_color = sigma_space = 120`` by default; the published code uses
   ``d=5`` on the colour image).
2. :func:`rgb_to_gray` — grey conversion (the published code applies
   OpenCV's ``BGR2GRAY`` to RGB data, i.e. swapped weights:
   ``channel_order='bgr'``).
3. :func:`patch_multiotsu_mask` — Otsu in every 32x32 window at stride 8
   after min-max normalising the window: 3-class multi-Otsu (paper,
   ``classes=3``), where a window says "crack" for its pixels strictly
   below its lowest threshold, or 2-class Otsu (``classes=2``), where it
   says "crack" for its pixels at or below the threshold (scikit-image's
   dark class, the complement of its foreground ``window > threshold``).
   A pixel is crack only if every window covering it says so.

:func:`threshold_map` composes the three steps.

Exactness. The per-window thresholds are bit-identical to
``skimage.filters.threshold_multiotsu(window, classes=3, nbins=nbins)``
and ``skimage.filters.threshold_otsu(window, nbins=nbins)`` (scikit-image
0.26; see :mod:`mmcrack.pseudo_label.multiotsu`). Windows that
scikit-image cannot split say "no crack": fewer than three distinct values
for 3 classes (it raises ``ValueError``), a single value for 2 classes (it
returns that value).

Speed. Window histograms come from 8x8-cell histograms and box sums instead
of per-window passes; the normalised grey levels and their bins come from
lookup tables shared by all windows, and all windows are thresholded at
once (:mod:`mmcrack.pseudo_label.multiotsu`).
"""
import functools
from typing import NamedTuple

import cv2
import numpy as np

from .multiotsu import (
    OccupiedBins,
    multiotsu_thresholds_batched,
    numpy_histogram_bins,
    occupied_first,
    otsu2_bin_indices,
    otsu3_bin_indices,
    otsu_thresholds_batched,
)

__all__ = [
    'bilateral_filter', 'rgb_to_gray', 'multiotsu_thresholds_batched',
    'otsu_thresholds_batched', 'patch_multiotsu_mask', 'threshold_map'
]


def bilateral_filter(img: np.ndarray,
                     d: int = 2,
                     sigma_color: float = 120.0,
                     sigma_space: float = 120.0,
                     to_gray: bool = True,
                     channel_order: str = 'rgb') -> np.ndarray:
    """Bilateral filter (``cv2.bilateralFilter``, OpenCV's default border).

    Args:
        img: (H, W) grey or (H, W, 3) colour image, uint8 (0..255) or
            float32.
        d: diameter of the pixel neighbourhood (paper: 2, published code: 5).
        sigma_color: filter sigma in the intensity space.
        sigma_space: filter sigma in the coordinate space.
        to_gray: convert a colour image to grey *before* filtering. With
            ``False`` a colour image is filtered as colour (published code)
            and stays colour.
        channel_order: channel order assumed by the grey conversion, see
            :func:`rgb_to_gray`.

    Returns:
        Filtered image of the input dtype: (H, W) if the input is grey or
        ``to_gray``, else (H, W, 3).
    """
    if img.dtype not in (np.uint8, np.float32):
        raise TypeError(f'bilateral_filter expects uint8 or float32, '
                        f'got {img.dtype}')
    if to_gray and img.ndim == 3:
        img = rgb_to_gray(img, channel_order)
    return cv2.bilateralFilter(
        np.ascontiguousarray(img), int(d), float(sigma_color),
        float(sigma_space))


def rgb_to_gray(img: np.ndarray, channel_order: str = 'rgb') -> np.ndarray:
    """Grey conversion with OpenCV's weights (0.299 R + 0.587 G + 0.114 B).

    Args:
        img: (H, W, 3) uint8 or float32 colour image; (H, W) is returned
            unchanged.
        channel_order: ``'rgb'`` — ``img`` is RGB (correct weights);
            ``'bgr'`` — apply ``COLOR_BGR2GRAY``, as the published code does
            to its RGB data (effective weights 0.114 R + 0.587 G + 0.299 B).

    Returns:
        (H, W) array of the input dtype.
    """
    if img.ndim == 2:
        return img
    codes = {'rgb': cv2.COLOR_RGB2GRAY, 'bgr': cv2.COLOR_BGR2GRAY}
    if channel_order not in codes:
        raise ValueError(f'channel_order must be one of {sorted(codes)}, '
                         f'got {channel_order!r}')
    return cv2.cvtColor(np.ascontiguousarray(img), codes[channel_order])


# --------------------------------------------------------------------------
# Patch-wise multi-Otsu with the agreement rule
# --------------------------------------------------------------------------


class _NormalisedLevels(NamedTuple):
    """Lookup tables of the min-max normalised grey levels of uint8 windows.

    A window with min ``lo`` and range ``r = max - lo`` (1..255) has the
    normalised value ``j / r`` (float64) at grey level ``lo + j``.

    Attributes:
        centers: (nbins,) float64 bin centres of the range [0, 1].
        bins: (256, 256) intp bin of ``j / r`` (``[r, j]``, 0 if ``j > r``).
        below: (256, nbins) int16 number of ``j`` with ``j / r <
            centers[t]`` (``[r, t]``): the pixels strictly below the
            threshold ``centers[t]`` are those with level ``< lo + below``.
        at_or_below: the same for ``j / r <= centers[t]``.
    """
    centers: np.ndarray
    bins: np.ndarray
    below: np.ndarray
    at_or_below: np.ndarray


@functools.lru_cache(maxsize=4)
def _normalised_levels(nbins: int) -> _NormalisedLevels:
    """:class:`_NormalisedLevels` for ``nbins`` bins (numpy's
    ``(p - p.min()) / (p.max() - p.min())`` on uint8 has the histogram
    range [0, 1] for every window, so the tables are shared)."""
    r = np.arange(256)[:, None]
    j = np.arange(256)[None, :]
    with np.errstate(divide='ignore', invalid='ignore'):
        value = j.astype(np.float64) / r.astype(np.float64)
    value[(j > r) | (r == 0)] = np.inf
    bins = np.zeros((256, 256), np.intp)
    for rr in range(1, 256):
        b, _ = numpy_histogram_bins(value[rr:rr + 1, :rr + 1], nbins)
        bins[rr, :rr + 1] = b[0]
    edges = np.linspace(np.float64(0.0), np.float64(1.0), nbins + 1)
    centers = (edges[:-1] + edges[1:]) / 2.0
    limits = np.zeros((2, 256, nbins), np.int16)
    for rr in range(1, 256):
        for limit, side in zip(limits, ('left', 'right')):
            limit[rr] = np.searchsorted(value[rr, :rr + 1], centers, side)
    for arr in (centers, bins, limits):
        arr.flags.writeable = False
    return _NormalisedLevels(centers, bins, *limits)


def _reflect_pad_to_multiple(img: np.ndarray, multiple: int) -> np.ndarray:
    """Reflect-pad (edge pixel not repeated) bottom/right to a multiple."""
    h, w = img.shape[:2]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return img
    pad = [(0, ph), (0, pw)] + [(0, 0)] * (img.ndim - 2)
    return np.pad(img, pad, mode='reflect')


_LEVELS = np.arange(256, dtype=np.int16)


@functools.lru_cache(maxsize=8)
def _cell_index(hp: int, wp: int, stride: int) -> np.ndarray:
    """(hp, wp) int32: 256 x the stride x stride cell of each pixel."""
    wc = wp // stride
    idx = ((np.arange(hp) // stride)[:, None] * wc +
           (np.arange(wp) // stride)[None, :]) * 256
    idx = idx.astype(np.int32)
    idx.flags.writeable = False
    return idx


def _window_histograms(padded: np.ndarray, window: int,
                       stride: int) -> np.ndarray:
    """Grey-level histograms of all windows from stride x stride cells.

    Args:
        padded: (Hp, Wp) uint8, both multiples of ``window``.

    Returns:
        (nh, nw, 256) counts (int16 while a window has < 32768 pixels).
    """
    hp, wp = padded.shape
    hc, wc = hp // stride, wp // stride
    dtype = np.int16 if window * window < 32768 else np.int32
    hist = np.bincount((_cell_index(hp, wp, stride) + padded).ravel(),
                       minlength=hc * wc * 256).astype(dtype)
    hist = hist.reshape(hc, wc, 256)
    k = window // stride
    nh, nw = hc - k + 1, wc - k + 1
    rows = hist[:nh].copy()
    for s in range(1, k):
        rows += hist[s:s + nh]
    out = rows[:, :nw].copy()
    for s in range(1, k):
        out += rows[:, s:s + nw]
    return out


def patch_multiotsu_mask(gray: np.ndarray,
                         window: int = 32,
                         stride: int = 8,
                         nbins: int = 256,
                         classes: int = 3) -> np.ndarray:
    """Patch-wise (multi-)Otsu crack mask with the agreement rule.

    The image is reflect-padded (``numpy.pad(mode='reflect')``, edge pixel
    not repeated) at the bottom and right to a multiple of ``window``;
    windows of ``window`` x ``window`` px start at every multiple of
    ``stride`` that fits. Each window ``p`` is min-max normalised to [0, 1]
    (float64) and says "crack" for

    * ``classes=3``: ``p < t[0]``, ``t =
      skimage.filters.threshold_multiotsu(p, classes=3, nbins=nbins)``
      (strictly below the lower threshold); windows with fewer than three
      distinct values say "no crack" everywhere;
    * ``classes=2``: ``p <= t``, ``t = skimage.filters.threshold_otsu(p,
      nbins=nbins)`` (at or below: not scikit-image's foreground
      ``p > t``); flat windows say "no crack" everywhere.

    A pixel is crack only if *every* window covering it says so. Interior
    pixels are covered by ``(window / stride)**2`` windows; pixels within
    ``window - stride`` px of the top/left border (and of the padded
    bottom/right border) by fewer, down to one at the top-left corner —
    exactly the published code's ``out *= mask`` accumulation. The padded
    area is cropped away.

    Args:
        gray: (H, W) uint8 grey image.
        window: window size in px; a multiple of ``stride``.
        stride: window stride in px.
        nbins: histogram bins of the normalised windows (>= 2).
        classes: 3 (paper: 3-class multi-Otsu) or 2 (Otsu).

    Returns:
        (H, W) bool, True = crack.
    """
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise TypeError(f'gray must be a 2-D uint8 array, got '
                        f'{gray.dtype} {gray.shape}')
    if window % stride:
        raise ValueError(f'window ({window}) must be a multiple of '
                         f'stride ({stride})')
    _check_classes(classes)
    h, w = gray.shape
    padded = np.ascontiguousarray(_reflect_pad_to_multiple(gray, window))
    hist = _window_histograms(padded, window, stride)
    nh, nw = hist.shape[:2]
    hist = hist.reshape(nh * nw, 256)
    # occupied grey levels of each window first, ascending: sort keys with
    # 256 added to unoccupied levels (whose counts are 0)
    empty = hist == 0
    n = hist.shape[1] - np.count_nonzero(empty, axis=1)
    kk = int(n.max())
    keys = empty.astype(np.int16)
    keys <<= 8
    keys |= _LEVELS
    keys.sort(axis=1)
    level = keys[:, :kk] & 255  # beyond n: unoccupied levels, count 0
    counts = np.take_along_axis(hist, level, axis=1)
    lo = level[:, 0].astype(np.intp)
    rng = level[np.arange(len(n)), n - 1] - lo
    luts = _normalised_levels(nbins)
    # bins of the occupied levels (entries beyond n are not used)
    q = luts.bins.take(rng[:, None] * 256 + (level - lo[:, None]) % 256)
    occupied = OccupiedBins(q, counts, n)
    if nbins < 256:
        # several grey levels may share a bin: merge them
        occupied = _merge_shared_bins(occupied)
    # grey-level limit per window: crack <=> level < limit
    if classes == 3:
        t, _ = otsu3_bin_indices(occupied, window * window)
        limit_lut = luts.below
    else:
        t = otsu2_bin_indices(occupied, luts.centers[occupied.bins])
        limit_lut = luts.at_or_below
    limit = np.where(t >= 0, lo + limit_lut[rng, t], 0).astype(np.int16)
    # agreement: per stride x stride cell, min of the limits of all windows
    # covering it (constant 256 outside the window grid)
    k = window // stride
    grid = np.pad(limit.reshape(nh, nw), k - 1, constant_values=256)
    cells = grid[:nh + k - 1].copy()
    for s in range(1, k):
        np.minimum(cells, grid[s:s + nh + k - 1], out=cells)
    out = cells[:, :nw + k - 1].copy()
    for s in range(1, k):
        np.minimum(out, cells[:, s:s + nw + k - 1], out=out)
    pix = np.repeat(np.repeat(out, stride, axis=0), stride, axis=1)[:h, :w]
    return gray < pix


def _check_classes(classes) -> None:
    """Refuse a number of classes other than 2 and 3."""
    if isinstance(classes, bool) or classes not in (2, 3):
        raise ValueError(f'classes must be 2 (Otsu) or 3 (3-class '
                         f'multi-Otsu), got {classes!r}')


def _merge_shared_bins(hist: OccupiedBins) -> OccupiedBins:
    """Merge consecutive entries of a row that fall in the same bin (grey
    levels mapped to fewer bins): ``hist.bins`` non-decreasing in each
    row's first ``n_occupied`` entries; one entry per bin, counts summed."""
    q, counts, n = hist
    occupied = np.arange(q.shape[1])[None, :] < n[:, None]
    start = occupied.copy()
    start[:, 1:] &= q[:, 1:] != q[:, :-1]
    csum = np.cumsum(np.where(occupied, counts, 0), axis=1)
    rows, first = np.nonzero(start)
    # a run ends before the next run start of its row, or at the row's end
    end = np.empty_like(first)
    end[:-1] = first[1:]
    last_run = np.ones(len(rows), bool)
    last_run[:-1] = rows[1:] != rows[:-1]
    end[last_run] = n[rows[last_run]]
    before = np.where(first > 0, csum[rows, np.maximum(first - 1, 0)], 0)
    totals = np.zeros(q.shape, counts.dtype)
    totals[rows, first] = csum[rows, end - 1] - before
    return occupied_first(q, totals, start)


def threshold_map(img: np.ndarray,
                  d: int = 2,
                  sigma_color: float = 120.0,
                  sigma_space: float = 120.0,
                  filter_on: str = 'gray',
                  channel_order: str = 'rgb',
                  window: int = 32,
                  stride: int = 8,
                  nbins: int = 256,
                  classes: int = 3) -> np.ndarray:
    """Thresholding branch: bilateral filter, grey, patch-wise multi-Otsu.

    Args:
        img: (H, W, 3) uint8 RGB image or (H, W) uint8 grey image.
        d, sigma_color, sigma_space: bilateral filter parameters.
        filter_on: ``'gray'`` — convert to grey, then filter (paper);
            ``'color'`` — filter the colour image, then convert (published
            code, together with ``d=5`` and ``channel_order='bgr'``);
            ``'none'`` — no bilateral filter (an ablation of the paper's
            Table IV).
        channel_order: see :func:`rgb_to_gray`.
        window, stride, nbins, classes: see :func:`patch_multiotsu_mask`
            (``classes``: 3 = 3-class multi-Otsu, paper; 2 = Otsu).

    Returns:
        (H, W) bool crack mask.
    """
    if img.dtype != np.uint8:
        raise TypeError(f'img must be uint8, got {img.dtype}')
    _check_classes(classes)
    if filter_on == 'gray':
        gray = bilateral_filter(img, d, sigma_color, sigma_space,
                                to_gray=True, channel_order=channel_order)
    elif filter_on == 'color':
        gray = rgb_to_gray(
            bilateral_filter(img, d, sigma_color, sigma_space,
                             to_gray=False), channel_order)
    elif filter_on == 'none':
        gray = rgb_to_gray(img, channel_order)
    else:
        raise ValueError(f"filter_on must be 'gray', 'color' or 'none', "
                         f'got {filter_on!r}')
    return patch_multiotsu_mask(gray, window, stride, nbins, classes)
