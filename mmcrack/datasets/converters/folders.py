"""Generic converter: an image folder and a mask folder, paired by stem.

For releases that are already "images + binary masks" but in another
encoding: 0/255 masks, 0/1 masks, or inverted masks (black crack on white).
Several (image folder, mask folder) pairs can be converted in one run, each
to its own split::

    python tools/dataset_converters/image_mask_folders.py \
        IMG_DIR MASK_DIR [IMG_DIR MASK_DIR ...] -o OUT \
        [--split NAME ...] [--mask-rule 0-255|0-1|inverted] [--force]

Mask rules (the mask is first decoded to one grey channel by
:func:`~.labels.read_label`):

* ``0-255`` (default): crack where value >= 128
  (:func:`~mmcrack.datasets.mask_utils.binarize_mask` ``'ge128'``); a mask
  holding only 0/1 is an error (use ``0-1``).
* ``0-1``: values must be 0 or 1; crack where value = 1.
* ``inverted``: black crack on white: crack where value <= 127.

The summary counts ``non_binary_pixels``: values other than 0 and 255
(a sign of anti-aliasing or lossy compression; see ``jpeg_masks``).
"""
import functools
import os.path as osp
from typing import Sequence, Tuple

import numpy as np

from mmcrack.utils.file_io import IMG_EXTENSIONS, MASK_EXTENSIONS, pair_by_stem

from ..mask_utils import binarize_mask
from .common import (
    ConversionError,
    Converted,
    Sample,
    add_output_arguments,
    convert,
)
from .labels import crack_mask, non_binary_pixels, read_label

MASK_RULES = ('0-255', '0-1', 'inverted')


def decode_mask(path: str, rule: str = '0-255') -> Converted:
    """Decode a binary mask file under a mask rule (see module doc).

    Args:
        path: mask file (PNG, BMP, TIFF, JPEG; 1-bit, grey, grey RGB(A)).
        rule: one of :data:`MASK_RULES`.

    Returns:
        :class:`~.common.Converted` with a uint8 (H, W) {0, 255} mask and
        ``stats['non_binary_pixels']``.

    Raises:
        ValueError: naming ``path``: unreadable, a 0/1 mask under ``0-255``,
            values other than 0/1 under ``0-1``, unknown rule.
    """
    if rule not in MASK_RULES:
        raise ValueError(f'unknown mask rule {rule!r}; choose one of '
                         f'{MASK_RULES}')
    grey = read_label(path)
    if rule == '0-1':
        other = np.setdiff1d(grey, (0, 1))
        if other.size:
            raise ValueError(f'{path}: mask rule 0-1 but the mask holds '
                             f'values {_values(other)}')
        return Converted(crack_mask(binarize_mask(grey, 'nonzero')))
    if rule == 'inverted':
        grey = 255 - grey
    try:
        binary = binarize_mask(grey, 'ge128')
    except ValueError as e:
        raise ValueError(f'{path}: {e}') from None
    return Converted(crack_mask(binary),
                     stats=dict(non_binary_pixels=non_binary_pixels(grey)))


def _values(values: np.ndarray, limit: int = 8) -> str:
    shown = ', '.join(str(int(v)) for v in values[:limit])
    return shown + (f', … ({len(values)} values)'
                    if len(values) > limit else '')


def folder_samples(pairs: Sequence[Tuple[str, str, str]],
                   mask_exts: Sequence[str] = MASK_EXTENSIONS) -> list:
    """Samples of ``(split, image folder, mask folder)`` triples, paired by
    stem with :func:`~mmcrack.utils.file_io.pair_by_stem`.

    Raises:
        ConversionError: a split named twice, a missing folder, unpaired
            stems (all named), an empty folder.
    """
    splits = [p[0] for p in pairs]
    if len(set(splits)) != len(splits):
        raise ConversionError(f'a split name is given twice: {splits}')
    samples = []
    for split, img_dir, mask_dir in pairs:
        try:
            found = pair_by_stem(img_dir, mask_dir, IMG_EXTENSIONS,
                                 mask_exts)
        except (ValueError, FileNotFoundError) as e:
            raise ConversionError(f'split {split}: {e}') from None
        samples += [Sample(split, stem, img, mask)
                    for stem, img, mask in found]
    return samples


def convert_folders(pairs: Sequence[Tuple[str, str, str]],
                    out_dir: str,
                    mask_rule: str = '0-255',
                    force: bool = False) -> dict:
    """Convert image/mask folders paired by stem into mmcrack's layout.

    Args:
        pairs: ``(split, image folder, mask folder)`` per split.
        out_dir: output dataset root.
        mask_rule: ``'0-255'``, ``'0-1'`` or ``'inverted'`` (module doc).
        force: see :func:`~.common.convert`.

    Returns:
        the summary (also in ``out_dir/conversion.json``).
    """
    if mask_rule not in MASK_RULES:
        raise ConversionError(f'unknown mask rule {mask_rule!r}; choose '
                              f'one of {MASK_RULES}')
    samples = folder_samples(pairs)
    rule_text = dict(zip(MASK_RULES, (
        'crack where value >= 128', 'crack where value = 1 (values 0/1)',
        'inverted: crack where value <= 127 (black crack on white)')))
    return convert(
        samples, functools.partial(decode_mask, rule=mask_rule), out_dir,
        dataset='image/mask folders',
        source=_common_source(pairs),
        options=dict(mask_rule=mask_rule,
                     pairs={s: dict(images=osp.abspath(i),
                                    masks=osp.abspath(m))
                            for s, i, m in pairs}),
        force=force,
        notes=[f'mask rule {mask_rule}: {rule_text[mask_rule]}'])


def _common_source(pairs) -> str:
    folders = [osp.abspath(p) for _, i, m in pairs for p in (i, m)]
    return osp.commonpath(folders) if len(folders) > 1 else folders[0]


def add_pair_arguments(parser) -> None:
    """``FOLDER ...`` (image and mask folders, alternating), ``--split``,
    ``-o/--out-dir`` and ``--force``."""
    parser.add_argument('folders', nargs='+', metavar='IMG_DIR MASK_DIR',
                        help='an image folder and its mask folder; repeat '
                        'the two for more splits')
    parser.add_argument('--split', nargs='+', metavar='NAME',
                        help='output split of each folder pair (default: '
                        'train for one pair)')
    add_output_arguments(parser)


def pairs_from_args(parser, args) -> list:
    """``(split, image folder, mask folder)`` triples from the parsed
    ``folders`` and ``--split`` (``parser.error`` on a wrong count)."""
    if len(args.folders) % 2:
        parser.error('give folders in pairs: IMG_DIR MASK_DIR [IMG_DIR '
                     'MASK_DIR ...]')
    n = len(args.folders) // 2
    splits = args.split or (['train'] if n == 1 else None)
    if splits is None or len(splits) != n:
        parser.error(f'{n} folder pair(s) need {n} --split name(s)')
    return [(splits[k], args.folders[2 * k], args.folders[2 * k + 1])
            for k in range(n)]
