"""Geometry of sliding windows over an image padded at the bottom/right:
the one rule the patch index (128 px windows, stride 64) and the
localisation step (32 px windows, stride 16) share."""
from typing import Tuple

import numpy as np


def window_grid(height: int, width: int, size: int = 32,
                stride: int = 16) -> Tuple[int, int, int, int]:
    """Geometry of the sliding windows.

    The image is padded at the bottom/right to a multiple of ``size``
    (published code); windows start at every multiple of ``stride`` that
    fits in the padded image.

    Args:
        height, width: image size in px (>= 1).
        size, stride: window size and step in px (> 0).

    Returns:
        ``(nh, nw, hp, wp)``: window rows and columns, padded height and
        width.
    """
    if size <= 0 or stride <= 0:
        raise ValueError('size and stride must be positive')
    hp = -(-height // size) * size
    wp = -(-width // size) * size
    return (hp - size) // stride + 1, (wp - size) // stride + 1, hp, wp


def window_origins(height: int, width: int, size: int,
                   stride: int) -> Tuple[np.ndarray, np.ndarray]:
    """Top-left corners of the windows of :func:`window_grid`.

    Returns:
        ``(ys, xs)``: (N,) int32 window origins, row-major
        (N = nh * nw).
    """
    nh, nw, _, _ = window_grid(height, width, size, stride)
    y0, x0 = np.meshgrid(np.arange(nh, dtype=np.int32) * stride,
                         np.arange(nw, dtype=np.int32) * stride,
                         indexing='ij')
    return y0.ravel(), x0.ravel()
