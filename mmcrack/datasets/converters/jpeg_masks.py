"""Converter for image folders whose ground truth is stored as JPEG.

Several repositories redistribute crack crops with JPEG masks: 0/255 masks
after lossy compression, with "ringing" (values near, but not at, 0 and 255
around each crack edge). This converter binarises at a threshold and says
how much of each mask was *ambiguous*::

    python tools/dataset_converters/jpeg_masks.py \
        IMG_DIR MASK_DIR [IMG_DIR MASK_DIR ...] -o OUT [--split NAME ...] \
        [--threshold 127] [--margin 64] [--inverted] [--force]

* crack where the grey value > ``threshold`` (default 127: the same as
  :func:`~mmcrack.datasets.mask_utils.binarize_mask`'s ``'ge128'``); with
  ``inverted`` (black crack on white) crack where value < 255 - threshold.
* a pixel is **ambiguous** when its value lies more than ``margin`` from
  both 0 and 255, i.e. ``margin < value < 255 - margin`` (default 64:
  values 65..190). Ringing keeps most values within a few dozen grey
  levels of 0 or 255, so ambiguous pixels are those where the mask itself
  does not say which side they are on: a different threshold in the middle
  of the range could flip them. The summary gives their number per split
  (``stats``) and their share of all pixels (``stats_share``); the report
  also gives them per crack pixel. Measured on a 2 px line mask saved by
  OpenCV: at JPEG quality >= 75 ringing stays within 43 levels of 0 / 255
  (no ambiguous pixel), at quality 30 some pixels become ambiguous yet the
  threshold still recovers the mask exactly, at quality 20 pixels flip.
"""
import functools
import os.path as osp
from typing import Sequence, Tuple

import numpy as np

from .common import (
    ConversionError,
    Converted,
    convert,
)
from .folders import _common_source, folder_samples
from .labels import crack_mask, non_binary_pixels, read_label

JPEG_EXTENSIONS = ('.jpg', '.jpeg')


def decode_jpeg_mask(path: str,
                     threshold: int = 127,
                     margin: int = 64,
                     inverted: bool = False) -> Converted:
    """Binarise a (JPEG) grey mask and count its ambiguous pixels.

    Args:
        path: mask file; a colour JPEG is converted to luminance.
        threshold: 0..254; crack where value > threshold (or, ``inverted``,
            where 255 - value > threshold).
        margin: 0..127; ambiguous where ``margin < value < 255 - margin``.
        inverted: black crack on white background.

    Returns:
        :class:`~.common.Converted` with the uint8 (H, W) {0, 255} mask and
        ``stats`` ``ambiguous_pixels`` and ``non_binary_pixels`` (values
        other than 0 and 255).
    """
    grey = read_label(path)
    if grey.max(initial=0) <= 1 and threshold >= 1:
        raise ValueError(f'{path}: the mask holds only values 0/1, which '
                         f'the threshold {threshold} would turn into an '
                         'empty mask: convert it with image_mask_folders.py '
                         '--mask-rule 0-1')
    ambiguous = int(np.count_nonzero((grey > margin) & (grey < 255 - margin)))
    crack = (255 - grey if inverted else grey) > threshold
    return Converted(crack_mask(crack),
                     stats=dict(ambiguous_pixels=ambiguous,
                                non_binary_pixels=non_binary_pixels(grey)))


def convert_jpeg_masks(pairs: Sequence[Tuple[str, str, str]],
                       out_dir: str,
                       threshold: int = 127,
                       margin: int = 64,
                       inverted: bool = False,
                       force: bool = False) -> dict:
    """Convert image folders with JPEG masks into mmcrack's layout.

    Args:
        pairs: ``(split, image folder, JPEG mask folder)`` per split; masks
            are ``.jpg`` / ``.jpeg`` files paired with images by stem.
        out_dir: output dataset root (masks become lossless PNG).
        threshold, margin, inverted: see :func:`decode_jpeg_mask`.
        force: see :func:`~.common.convert`.

    Returns:
        the summary (also in ``out_dir/conversion.json``), whose ``splits``
        and ``total`` count ``stats['ambiguous_pixels']``.
    """
    if not 0 <= threshold <= 254:
        raise ConversionError(f'threshold must be in 0..254, got {threshold}')
    if not 0 <= margin <= 127:
        raise ConversionError(f'margin must be in 0..127, got {margin}')
    samples = folder_samples(pairs, JPEG_EXTENSIONS)
    decode = functools.partial(decode_jpeg_mask, threshold=threshold,
                               margin=margin, inverted=inverted)
    return convert(
        samples, decode, out_dir,
        dataset='JPEG-mask folders',
        source=_common_source(pairs),
        options=dict(threshold=threshold, margin=margin, inverted=inverted,
                     pairs={s: dict(images=osp.abspath(i),
                                    masks=osp.abspath(m))
                            for s, i, m in pairs}),
        force=force,
        notes=[
            f'crack where {"255 - " if inverted else ""}value > '
            f'{threshold}; ambiguous = {margin} < value < {255 - margin}'
        ])
