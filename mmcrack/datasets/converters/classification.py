"""From mmcrack's mask layout to the weak-label layouts of classification.

Reads ``ROOT/images/<split>`` + ``ROOT/masks/<split>`` (the layout every
other converter writes) and writes, per split::

    OUT/<split>/crack/<stem>_y<Y>_x<X>.png     patches with >= 1 crack pixel
    OUT/<split>/no_crack/<stem>_y<Y>_x<X>.png  the other patches
    OUT/<split>/images/<stem>.<ext>            with image_level: the images
    OUT/<split>/labels.txt                     ... and their stem,label list
    OUT/conversion.json                        summary, written last

Patches are exactly the windows ``CrackPatchDataset(source='segmentation')``
indexes: the image and its mask reflect-padded at the bottom/right to a
multiple of ``patch_size`` (:func:`~..transforms.patch_loading.
pad_to_multiple`), windows at every multiple of ``stride``, labelled by
:func:`~..crack_patch_dataset.window_labels` (crack when the padded window
holds >= ``crack_patch_min_pixels`` crack pixels); masks are binarised with
``mask_rule`` as the dataset does. Patches are lossless PNG (RGB), so
``source='folders'`` on ``OUT/<split>`` yields the same pixels and labels.

Image level: an image is ``crack`` when its mask holds >=
``crack_patch_min_pixels`` crack pixels; images are copied byte for byte
(JPEG/PNG, else written as PNG). With ``tile``, each image is instead cut
into ``tile`` x ``tile`` tiles (reflect-padded as above, stems
``<stem>_y<Y>_x<X>``) and each tile is labelled the same way — a set of
image-level labels whose window-level answer is known. ``tile`` changes
only the image-level list; patches always come from whole images.

Verification, ``--force`` refusal, atomic writes and the report are those of
:mod:`.common`.
"""
import json
import os
import os.path as osp
import shutil
import tempfile
import time
from typing import Optional, Sequence

import cv2
import numpy as np

from mmcrack.utils.file_io import (
    IMG_EXTENSIONS,
    MASK_EXTENSIONS,
    atomic_write_bytes,
    atomic_write_image,
    atomic_write_json,
    ensure_writable_dir,
    pair_by_stem,
    read_image,
)

from ..crack_patch_dataset import window_labels
from ..mask_utils import BINARIZE_RULES, binarize_mask
from ..synthetic import DEFAULT_SPLITS as SYNTHETIC_SPLITS
from ..synthetic import SyntheticCrackConfig, write_synthetic_dataset
from ..transforms.patch_loading import pad_to_multiple
from .common import (
    IMAGE_DIR,
    MASK_DIR,
    SUMMARY_NAME,
    ConversionError,
    Converted,
    OutputNotEmptyError,
    Sample,
    _add,
    _check_output,
    _check_samples,
    _finish,
    _new_counts,
    _remove_unwritten,
    _verify,
    _write_image,
)

DEFAULT_SPLITS = ('train', 'val', 'test')
LIST_NAME = 'labels.txt'
CLASS_DIRS = ('no_crack', 'crack')  # label 0, 1


def _decoder(rule: str):
    def decode(path: str) -> Converted:
        raw = read_image(path, 'unchanged')
        try:
            mask = binarize_mask(raw, rule)
        except ValueError as e:
            raise ValueError(f'{path}: {e}') from None
        return Converted(mask * np.uint8(255))
    return decode


def mask_layout_samples(src_dir: str,
                        splits: Optional[Sequence[str]] = None) -> list:
    """The image/mask pairs of a mask layout.

    Args:
        src_dir: root with ``images/<split>`` and ``masks/<split>``.
        splits: the splits to read (default: those of train, val and test
            that exist).

    Returns:
        list of :class:`~.common.Sample`.

    Raises:
        ConversionError: no split found, a named split missing, unpaired
            files (every problem in one message).
    """
    if splits is None:
        splits = [s for s in DEFAULT_SPLITS
                  if osp.isdir(osp.join(src_dir, IMAGE_DIR, s))]
        if not splits:
            raise ConversionError(
                f'{src_dir} holds none of {IMAGE_DIR}/'
                f'{{{",".join(DEFAULT_SPLITS)}}}')
    samples, problems = [], []
    for split in splits:
        img_dir = osp.join(src_dir, IMAGE_DIR, split)
        mask_dir = osp.join(src_dir, MASK_DIR, split)
        try:
            pairs = pair_by_stem(img_dir, mask_dir, IMG_EXTENSIONS,
                                 MASK_EXTENSIONS)
        except (ValueError, FileNotFoundError) as e:
            problems.append(f'split {split}: {e}')
            continue
        samples += [Sample(split, stem, img, mask)
                    for stem, img, mask in pairs]
    if problems:
        raise ConversionError(f'{len(problems)} problem(s) in {src_dir}:\n  '
                              + '\n  '.join(problems))
    return samples


def _write_patches(s: Sample, img: np.ndarray, mask: np.ndarray,
                   out_dir: str, size: int, stride: int, min_pixels: int,
                   written: dict) -> np.ndarray:
    """Write the windows of one image; (2,) counts (no_crack, crack)."""
    padded = pad_to_multiple(img, size)
    ys, xs, labels = window_labels(mask, size, stride, min_pixels)
    for y, x, lab in zip(ys, xs, labels):
        folder = osp.join(out_dir, s.split, CLASS_DIRS[lab])
        path = osp.join(folder, f'{s.stem}_y{y:05d}_x{x:05d}.png')
        atomic_write_image(path, padded[y:y + size, x:x + size])
        written.setdefault(folder, set()).add(path)
    return np.bincount(labels, minlength=2)


def _write_tiles(s: Sample, img: np.ndarray, mask: np.ndarray,
                 out_dir: str, tile: int, min_pixels: int,
                 written: dict) -> list:
    """Write the tiles of one image; their ``(stem, label name)``."""
    padded = pad_to_multiple(img, tile)
    ys, xs, labels = window_labels(mask, tile, tile, min_pixels)
    folder = osp.join(out_dir, s.split, IMAGE_DIR)
    rows = []
    for y, x, lab in zip(ys, xs, labels):
        stem = f'{s.stem}_y{y:05d}_x{x:05d}'
        path = osp.join(folder, stem + '.png')
        atomic_write_image(path, padded[y:y + tile, x:x + tile])
        written.setdefault(folder, set()).add(path)
        rows.append((stem, CLASS_DIRS[lab]))
    return rows


def convert_masks_to_classification(src_dir: str,
                                    out_dir: str,
                                    patch_size: int = 128,
                                    stride: int = 64,
                                    splits: Optional[Sequence[str]] = None,
                                    image_level: bool = False,
                                    tile: Optional[int] = None,
                                    mask_rule: str = 'ge128',
                                    crack_patch_min_pixels: int = 1,
                                    force: bool = False) -> dict:
    """Write patch class folders (and image-level lists) from masks.

    Args:
        src_dir: mask layout root (``images/<split>``, ``masks/<split>``).
        out_dir: output root (module doc).
        patch_size, stride: windows in px (> 0), as ``CrackPatchDataset``.
        splits: splits to convert (default: those of train/val/test found).
        image_level: also write ``<split>/images/`` + ``labels.txt``.
        tile: cut the image-level images into tiles of this side (px);
            implies ``image_level``.
        mask_rule: ``'ge128'`` (0/255 masks) or ``'nonzero'`` (0/1), as
            the dataset's ``mask_rule``.
        crack_patch_min_pixels: crack pixels that make a patch, tile or
            image ``crack`` (>= 1).
        force: write into a non-empty ``out_dir`` (see
            :func:`~.common.convert`).

    Returns:
        the summary (also ``out_dir/conversion.json``).

    Raises:
        ConversionError: bad options, missing splits, unpaired or bad
            files (all named; nothing is written then).
        OutputNotEmptyError: ``out_dir`` is not empty and not ``force``.
        NotWritableError: ``out_dir`` cannot be written.
    """
    start = time.time()
    if patch_size <= 0 or stride <= 0 or crack_patch_min_pixels < 1 or \
            (tile is not None and tile <= 0):
        raise ConversionError('patch size, stride, tile and '
                              'crack_patch_min_pixels must be positive')
    if mask_rule not in BINARIZE_RULES:
        raise ConversionError(f'mask rule must be one of {BINARIZE_RULES}')
    image_level = image_level or tile is not None
    samples = mask_layout_samples(src_dir, splits)
    _check_samples(samples, src_dir)
    _check_output(out_dir, force, samples)
    out_dir = ensure_writable_dir(out_dir, 'output folder')
    results, errors = _verify(samples, _decoder(mask_rule))
    if errors:
        raise ConversionError(
            f'{len(errors)} bad pair(s) of {len(samples)} in {src_dir}; '
            'nothing was written:\n  ' + '\n  '.join(errors))
    # every folder this run writes to, for --force clean-up
    written = {osp.join(out_dir, s.split, sub): set() for s in samples
               for sub in CLASS_DIRS + ((IMAGE_DIR, ) if image_level else ())}
    for folder in written:  # both class folders, even when one is empty
        os.makedirs(folder, exist_ok=True)
    rows, counts, patches, images = {}, {}, {}, {}
    copied = reencoded = 0
    for r in results:
        s = r['sample']
        mask = (cv2.imdecode(np.frombuffer(r['mask'], np.uint8),
                             cv2.IMREAD_UNCHANGED) > 0).astype(np.uint8)
        img = read_image(s.image, 'color')
        patches[s.split] = patches.get(s.split, 0) + _write_patches(
            s, img, mask, out_dir, patch_size, stride,
            crack_patch_min_pixels, written)
        if tile is not None:
            new = _write_tiles(s, img, mask, out_dir, tile,
                               crack_patch_min_pixels, written)
        elif image_level:
            folder = osp.join(out_dir, s.split, IMAGE_DIR)
            dst, same = _write_image(s, folder)
            copied, reencoded = copied + same, reencoded + (not same)
            written.setdefault(folder, set()).add(dst)
            new = [(s.stem,
                    CLASS_DIRS[int(r['crack'] >= crack_patch_min_pixels)])]
        else:
            new = []
        rows.setdefault(s.split, []).extend(new)
        _add(counts.setdefault(s.split, _new_counts()), r)
    for split, lines in rows.items():
        if image_level:
            atomic_write_bytes(
                osp.join(out_dir, split, LIST_NAME),
                ''.join(['stem,label\n'] + [f'{a},{b}\n' for a, b in lines]
                        ).encode())
            images[split] = {c: sum(b == c for _, b in lines)
                             for c in CLASS_DIRS}
    removed = []
    if force:
        for folder, paths in written.items():
            if osp.isdir(folder):
                removed += _remove_unwritten(folder, paths)
    total = _new_counts()
    for r in results:
        _add(total, r)
    patch_counts = {k: dict(zip(CLASS_DIRS, map(int, v)))
                    for k, v in patches.items()}
    notes = [f'{k}: {v["crack"]} crack / {v["no_crack"]} no_crack patches '
             f'of {patch_size} px at stride {stride}'
             for k, v in patch_counts.items()]
    notes += [f'{k}: {v["crack"]} crack / {v["no_crack"]} no_crack '
              + (f'{tile} px tiles' if tile else 'images') + ' in '
              f'{k}/{LIST_NAME}' for k, v in images.items()]
    summary = dict(
        dataset='mask layout -> classification',
        source=osp.abspath(src_dir),
        options=dict(patch_size=patch_size, stride=stride,
                     splits=sorted(counts), image_level=image_level,
                     tile=tile, mask_rule=mask_rule,
                     crack_patch_min_pixels=crack_patch_min_pixels),
        layout={
            '<split>/crack': 'patches with >= crack_patch_min_pixels crack '
                             'pixels (<stem>_y<Y>_x<X>.png, RGB)',
            '<split>/no_crack': 'the other patches',
            **({'<split>/images': ('tiles' if tile else 'images') +
                ' of the image-level list',
                f'<split>/{LIST_NAME}': 'stem,label lines (label crack | '
                                        'no_crack)'} if image_level else {}),
        },
        patches=patch_counts,
        image_level=images,
        splits={k: _finish(v) for k, v in counts.items()},
        total=_finish(total),
        images=dict(copied_unchanged=copied, reencoded_png=reencoded),
        skipped=[],
        removed_by_force=len(removed),
        notes=notes,
        seconds=round(time.time() - start, 2),
    )
    atomic_write_json(osp.join(out_dir, SUMMARY_NAME), summary)
    summary['out_dir'] = out_dir
    return summary


CLASSIFICATION_DIR = 'classification'


def write_synthetic_classification(out_dir: str,
                                   seed: int = 0,
                                   splits: Optional[dict] = None,
                                   cfg=None,
                                   patch_size: int = 128,
                                   stride: int = 64,
                                   mask_splits: Sequence[str] = ('test', ),
                                   overwrite: bool = False) -> dict:
    """The synthetic set in the weak-label layout::

        OUT/classification/<split>/{crack,no_crack}/   patch class folders
        OUT/classification/<split>/images/ + labels.txt  image-level list
        OUT/images/<split>/                            the full images
        OUT/masks/<mask split>/                        scoring masks only

    The mask layout is written to a temporary folder inside ``OUT``
    (:func:`~mmcrack.datasets.synthetic.write_synthetic_dataset`), converted
    by :func:`convert_masks_to_classification` (``image_level=True``), and
    only the images and the masks of ``mask_splits`` are kept: the
    training split has no masks, as the data of a weakly-supervised user.

    Args:
        out_dir: output root.
        seed: seed of the set.
        splits: images per split (default
            :data:`~mmcrack.datasets.synthetic.DEFAULT_SPLITS`).
        cfg: :class:`~mmcrack.datasets.synthetic.SyntheticCrackConfig`.
        patch_size, stride: windows of the patch folders (px).
        mask_splits: splits whose masks are kept.
        overwrite: replace an earlier set; without it a complete set
            (``OUT/classification/conversion.json``) is kept and returned,
            and any other non-empty ``OUT`` is refused.

    Returns:
        the conversion summary (``OUT/classification/conversion.json``).

    Raises:
        OutputNotEmptyError: ``OUT`` holds other files and not
            ``overwrite``.
    """
    splits = dict(SYNTHETIC_SPLITS if splits is None else splits)
    cls_dir = osp.join(out_dir, CLASSIFICATION_DIR)
    done = osp.join(cls_dir, SUMMARY_NAME)
    if osp.isfile(done) and not overwrite:
        with open(done) as f:
            return json.load(f)
    if osp.isdir(out_dir) and os.listdir(out_dir) and not overwrite:
        raise OutputNotEmptyError(
            f'output folder {out_dir} is not empty and holds no complete '
            'synthetic classification set; use --force')
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir,
                                     prefix='.synthetic-masks-') as tmp:
        write_synthetic_dataset(tmp, seed, splits,
                                cfg or SyntheticCrackConfig(),
                                overwrite=True)
        summary = convert_masks_to_classification(
            tmp, cls_dir, patch_size, stride, splits=list(splits),
            image_level=True, force=overwrite)
        for split in splits:
            tops = (IMAGE_DIR, ) + ((MASK_DIR, )
                                    if split in mask_splits else ())
            for top in tops:
                dst = osp.join(out_dir, top, split)
                if osp.isdir(dst):
                    shutil.rmtree(dst)
                os.makedirs(osp.dirname(dst), exist_ok=True)
                os.replace(osp.join(tmp, top, split), dst)
    summary.pop('out_dir', None)
    summary.update(
        dataset='synthetic (classification layout)',
        source=f'synthetic seed {seed}',
        options=dict(summary['options'], seed=seed, splits=splits,
                     mask_splits=list(mask_splits)))
    atomic_write_json(done, summary)
    return summary
