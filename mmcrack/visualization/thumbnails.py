"""Pictures of one evaluated image, small enough for a page of hundreds of
rows: the error overlay (true positives, false positives, false negatives
in three colours) and downscaled thumbnails of the photo and the maps.

Downscaling keeps one-pixel cracks visible: a map (probability, mask,
overlay) is cut into one block of source pixels per thumbnail pixel and
each block gives its **maximum** (for the overlay: the error class that
covers most of the block's pixels, when any pixel of the block is crack in
the prediction or the ground truth). Only the photo is area-averaged.
A thumbnail is never larger than its source.
"""
import os.path as osp
from typing import Optional, Tuple

import cv2
import numpy as np

from mmcrack.utils.file_io import atomic_write_bytes

__all__ = [
    'ERROR_COLOURS', 'BACKGROUND_DIM', 'BACKGROUND_STEP', 'THUMB_SIDE',
    'thumbnail_shape', 'block_max', 'error_overlay', 'error_thumbnail',
    'photo_thumbnail', 'map_thumbnail', 'write_thumbnail'
]

# RGB; green / magenta / azure stay apart under the common colour-vision
# deficiencies and stand out on a dimmed grey photo.
ERROR_COLOURS = dict(tp=(0, 220, 0), fp=(255, 0, 255), fn=(0, 160, 255))
BACKGROUND_DIM = 0.5  # the photo under the overlay, grey and darkened ...
BACKGROUND_STEP = 8  # ... to multiples of 8 grey levels
JPEG_QUALITY = 85
THUMB_SIDE = 160  # px, default longest side of a thumbnail


def thumbnail_shape(shape: Tuple[int, int], max_side: int) -> Tuple[int, int]:
    """``(h, w)`` of the thumbnail of an ``(H, W)`` picture: the longer side
    brought down to ``max_side`` (aspect kept, each side >= 1); never
    larger than ``(H, W)``.

    Args:
        shape: ``(H, W)`` of the source, both >= 1.
        max_side: longest side of the thumbnail, px, >= 1.
    """
    h, w = int(shape[0]), int(shape[1])
    if h < 1 or w < 1 or max_side < 1:
        raise ValueError(f'bad thumbnail request: shape {shape}, '
                         f'max_side {max_side}')
    scale = min(1.0, max_side / max(h, w))
    return max(1, round(h * scale)), max(1, round(w * scale))


def _block_starts(n: int, m: int) -> np.ndarray:
    """First source index of each of ``m`` blocks that partition ``n``."""
    return (np.arange(m, dtype=np.int64) * n) // m


def block_max(arr: np.ndarray, out_shape: Tuple[int, int]) -> np.ndarray:
    """Downscale by the maximum of each block of source pixels.

    The rows are cut into ``h`` consecutive blocks, row block ``i``
    starting at ``floor(i * H / h)`` (likewise the columns), so every
    source pixel falls into exactly one block.

    Args:
        arr: ``(H, W)`` or ``(H, W, C)``, any numeric or bool dtype.
        out_shape: ``(h, w)`` with ``1 <= h <= H`` and ``1 <= w <= W``.

    Returns:
        ``(h, w[, C])`` of ``arr``'s dtype.
    """
    arr = np.asarray(arr)
    h, w = out_shape
    if not (1 <= h <= arr.shape[0] and 1 <= w <= arr.shape[1]):
        raise ValueError(f'cannot downscale {arr.shape[:2]} to {out_shape}')
    if (h, w) == arr.shape[:2]:
        return arr.copy()
    rows = np.maximum.reduceat(arr, _block_starts(arr.shape[0], h), axis=0)
    return np.maximum.reduceat(rows, _block_starts(arr.shape[1], w), axis=1)


def _block_sum(arr: np.ndarray, out_shape: Tuple[int, int]) -> np.ndarray:
    h, w = out_shape
    rows = np.add.reduceat(arr, _block_starts(arr.shape[0], h), axis=0)
    return np.add.reduceat(rows, _block_starts(arr.shape[1], w), axis=1)


def _grey(background: Optional[np.ndarray],
          shape: Tuple[int, int]) -> Optional[np.ndarray]:
    """The background as uint8 grey ``shape`` (None without one)."""
    if background is None:
        return None
    bg = np.asarray(background)
    if bg.dtype != np.uint8 or bg.shape[:2] != tuple(shape) or not (
            bg.ndim == 2 or (bg.ndim == 3 and bg.shape[2] == 3)):
        raise ValueError(f'background must be uint8 (H, W) or (H, W, 3) of '
                         f'size {shape}, got {bg.dtype} {bg.shape}')
    return bg if bg.ndim == 2 else cv2.cvtColor(bg, cv2.COLOR_RGB2GRAY)


def _dimmed_rgb(grey: Optional[np.ndarray],
                shape: Tuple[int, int]) -> np.ndarray:
    """uint8 RGB ``shape``: ``grey`` at :data:`BACKGROUND_DIM` of its
    brightness, in steps of :data:`BACKGROUND_STEP` grey levels (flat
    areas keep the PNG small); black without it."""
    if grey is None:
        return np.zeros(tuple(shape) + (3, ), np.uint8)
    dim = (grey.astype(np.float32) * BACKGROUND_DIM).astype(np.uint8)
    dim = dim // BACKGROUND_STEP * BACKGROUND_STEP
    return np.repeat(dim[..., None], 3, axis=2)


def _check_masks(pred: np.ndarray, gt: np.ndarray):
    pred, gt = np.asarray(pred, bool), np.asarray(gt, bool)
    if pred.ndim != 2 or pred.shape != gt.shape:
        raise ValueError(f'prediction {pred.shape} and ground truth '
                         f'{gt.shape} must be 2-D masks of one size')
    return pred, gt


def error_overlay(pred: np.ndarray,
                  gt: np.ndarray,
                  background: Optional[np.ndarray] = None) -> np.ndarray:
    """True positives, false positives and false negatives in colour.

    Args:
        pred: bool ``(H, W)`` predicted crack (the map at a threshold).
        gt: bool ``(H, W)`` ground-truth crack.
        background: optional uint8 RGB ``(H, W, 3)`` or grey ``(H, W)``
            photo, shown grey at :data:`BACKGROUND_DIM` of its brightness
            (in steps of :data:`BACKGROUND_STEP`) under the other pixels;
            black without it.

    Returns:
        uint8 RGB ``(H, W, 3)``: ``ERROR_COLOURS['tp']`` where both are
        crack, ``['fp']`` where only ``pred`` is, ``['fn']`` where only
        ``gt`` is; the dimmed background elsewhere.
    """
    pred, gt = _check_masks(pred, gt)
    out = _dimmed_rgb(_grey(background, pred.shape), pred.shape)
    out[pred & gt] = ERROR_COLOURS['tp']
    out[pred & ~gt] = ERROR_COLOURS['fp']
    out[~pred & gt] = ERROR_COLOURS['fn']
    return out


def error_thumbnail(pred: np.ndarray,
                    gt: np.ndarray,
                    background: Optional[np.ndarray] = None,
                    max_side: int = THUMB_SIDE) -> np.ndarray:
    """:func:`error_overlay` downscaled so that thin cracks stay visible.

    Each thumbnail pixel stands for one block of source pixels (see
    :func:`block_max`). When the block holds any TP, FP or FN pixel the
    thumbnail pixel takes the colour of the class with the most pixels in
    the block (ties: FN before FP before TP, errors are not hidden);
    otherwise it shows the dimmed background, area-averaged.

    Args:
        pred, gt: bool ``(H, W)``.
        background: optional uint8 ``(H, W, 3)`` RGB or ``(H, W)`` photo.
        max_side: longest side of the result, px (never upscaled).

    Returns:
        uint8 RGB ``(h, w, 3)``, ``(h, w) = thumbnail_shape((H, W),
        max_side)``.
    """
    pred, gt = _check_masks(pred, gt)
    h, w = thumbnail_shape(pred.shape, max_side)
    if (h, w) == pred.shape:
        return error_overlay(pred, gt, background)
    grey = _grey(background, pred.shape)
    if grey is not None:
        grey = cv2.resize(grey, (w, h), interpolation=cv2.INTER_AREA)
    out = _dimmed_rgb(grey, (h, w))
    # one plane per class, in tie-break order: argmax picks the first
    order = ('fn', 'fp', 'tp')
    planes = np.stack([~pred & gt, pred & ~gt, pred & gt],
                      axis=-1).astype(np.int32)
    counts = _block_sum(planes, (h, w))
    hit = counts.max(axis=-1) > 0
    colours = np.array([ERROR_COLOURS[k] for k in order], np.uint8)
    out[hit] = colours[counts.argmax(axis=-1)[hit]]
    return out


def photo_thumbnail(image: np.ndarray,
                    max_side: int = THUMB_SIDE) -> np.ndarray:
    """Area-averaged thumbnail of a photo.

    Args:
        image: uint8 RGB ``(H, W, 3)`` or grey ``(H, W)``.
        max_side: longest side of the result, px (never upscaled).

    Returns:
        uint8 of ``image``'s channels, ``thumbnail_shape((H, W),
        max_side)``.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f'photo must be uint8 (H, W[, 3]), got '
                         f'{image.dtype} {image.shape}')
    h, w = thumbnail_shape(image.shape[:2], max_side)
    if (h, w) == image.shape[:2]:
        return image.copy()
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)


def map_thumbnail(prob: np.ndarray,
                  max_side: int = THUMB_SIDE) -> np.ndarray:
    """Grey thumbnail of a probability map or mask, by block maximum.

    Args:
        prob: ``(H, W)``: float probability in [0, 1], uint8 0..255
            (``v / 255``) or bool / {0, 1} mask (shown as 0 / 255).
        max_side: longest side of the result, px (never upscaled).

    Returns:
        uint8 ``(h, w)``, white = crack (probability 1).
    """
    arr = np.asarray(prob)
    if arr.ndim != 2:
        raise ValueError(f'map must be (H, W), got {arr.shape}')
    if arr.dtype == bool:
        grey = arr.astype(np.uint8) * np.uint8(255)
    elif arr.dtype == np.uint8:
        grey = arr
    elif arr.dtype.kind == 'f':
        grey = np.round(np.clip(arr, 0, 1) * 255).astype(np.uint8)
    else:
        raise ValueError(f'unsupported map dtype {arr.dtype}')
    return block_max(grey, thumbnail_shape(arr.shape, max_side))


def write_thumbnail(path: str, picture: np.ndarray) -> None:
    """Encode by the extension of ``path`` (``.jpg``: quality 85; ``.png``)
    and write atomically (temporary file + rename).

    Args:
        path: destination, ``.jpg`` / ``.jpeg`` / ``.png``.
        picture: uint8 grey ``(h, w)`` or RGB ``(h, w, 3)``.
    """
    ext = osp.splitext(path)[1].lower()
    img = picture
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if ext in (
        '.jpg', '.jpeg') else [cv2.IMWRITE_PNG_COMPRESSION, 6]
    ok, buf = cv2.imencode(ext, img, params)
    if not ok:
        raise ValueError(f'{path}: OpenCV could not encode the thumbnail')
    atomic_write_bytes(path, buf.tobytes())
