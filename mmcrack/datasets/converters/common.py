"""What every dataset converter does: verify, write, count, report.

A converter turns a public release into mmcrack's layout::

    OUT/images/<split>/<stem>.jpg|png   the image bytes, copied unchanged
    OUT/masks/<split>/<stem>.png        one channel, 0 = background,
                                        255 = crack
    OUT/<extra>/<split>/<stem>.png      optional label maps (UAV75 classes)
    OUT/conversion.json                 summary, written last

A dataset module lists :class:`Sample` s (and the items it skips, with the
reason) and gives a *decoder* that turns one label file into a
:class:`Converted` mask. :func:`convert` then

1. refuses a non-empty ``OUT`` unless ``force`` (and always refuses an
   ``OUT`` that holds one of the source files),
2. decodes every image and label once and collects *all* bad pairs
   (undecodable file, unexpected label value, image/label size mismatch)
   into one :class:`ConversionError` naming the files — nothing is written
   when there is one,
3. writes each file atomically (``file_io.atomic_write_bytes``): JPEG and
   PNG images are copied byte for byte (``.jpeg`` is named ``.jpg``); other
   formats (BMP, TIFF, ...) are decoded and written as lossless 8-bit RGB
   PNG, and the summary says how many,
4. counts images, pixels and crack pixels per split and writes
   ``conversion.json`` (source, options, counts, crack share, skipped items
   with reasons, notes).

:func:`format_report` prints the same counts; :func:`run_cli` is the shared
body of ``tools/dataset_converters/*.py``. Label files are decoded by
:mod:`.labels`.
"""
import argparse
import dataclasses
import os
import os.path as osp
import sys
import time
from typing import Callable, Dict, Iterable, List, Optional, Sequence

import cv2
import numpy as np

from mmcrack.utils.file_io import (
    IMG_EXTENSIONS,
    MASK_EXTENSIONS,
    NotWritableError,
    atomic_write_bytes,
    atomic_write_image,
    atomic_write_json,
    ensure_writable_dir,
    read_image,
    remove_stale_temp_files,
)

from .labels import image_size

IMAGE_DIR = 'images'
MASK_DIR = 'masks'
SUMMARY_NAME = 'conversion.json'
# source extension -> output extension of images copied byte for byte
COPIED_EXTENSIONS = {'.jpg': '.jpg', '.jpeg': '.jpg', '.png': '.png'}


@dataclasses.dataclass(frozen=True)
class Sample:
    """One image/label pair of a release.

    Args:
        split: output split name (``'train'``, ``'val'``, ``'test'``...).
        stem: output file stem (unique within the split).
        image: path of the image file.
        label: path of the label file, decoded by the converter's decoder.
    """
    split: str
    stem: str
    image: str
    label: str


@dataclasses.dataclass
class Converted:
    """A decoded label.

    Args:
        mask: (H, W) uint8 crack mask, values in {0, 255}.
        extra: more (H, W) uint8 maps to write, keyed by top folder
            (``{'classes': map}`` -> ``OUT/classes/<split>/<stem>.png``).
        stats: integer counts (e.g. ``ambiguous_pixels``) summed per split
            in the summary.
    """
    mask: np.ndarray
    extra: Dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    stats: Dict[str, int] = dataclasses.field(default_factory=dict)


class ConversionError(ValueError):
    """A release cannot be converted (the message names the files)."""


class OutputNotEmptyError(ConversionError):
    """The output folder is not empty and ``force`` was not given."""


def _check_output(out_dir: str, force: bool, samples: Sequence[Sample]):
    out_real = osp.realpath(out_dir)
    inside = [
        p for s in samples for p in (s.image, s.label)
        if osp.realpath(p).startswith(out_real + os.sep)
    ]
    if inside:
        raise ConversionError(
            f'output folder {out_dir} holds {len(inside)} source file(s) '
            f'(e.g. {inside[0]}); choose an output folder outside the '
            'release')
    if osp.isdir(out_dir) and os.listdir(out_dir) and not force:
        raise OutputNotEmptyError(
            f'output folder {out_dir} is not empty; use --force to write '
            'into it (files of the same name are replaced, and other image '
            'and mask files in the split folders written are removed)')


def _check_samples(samples: Sequence[Sample], source: str) -> None:
    if not samples:
        raise ConversionError(f'no image/label pairs found in {source}')
    seen = {}
    for s in samples:
        key = (s.split, s.stem)
        if key in seen:
            raise ConversionError(
                f'two samples would be written as {s.split}/{s.stem}: '
                f'{seen[key]} and {s.image}')
        seen[key] = s.image


def _encode_png(arr: np.ndarray, what: str) -> bytes:
    ok, buf = cv2.imencode('.png', arr)
    if not ok:
        raise ValueError(f'OpenCV could not encode {what} as PNG')
    return buf.tobytes()


def _verify(samples, decode):
    """Decode everything once: (per-sample results, list of errors)."""
    results, errors = [], []
    for s in samples:
        problems, size, conv = [], None, None
        try:
            size = image_size(s.image)
        except (ValueError, OSError) as e:
            problems.append(str(e))
        try:
            conv = decode(s.label)
        except (ValueError, OSError) as e:
            problems.append(str(e))
        if conv is not None and size is not None:
            maps = [('label', conv.mask)] + list(conv.extra.items())
            for name, arr in maps:
                if arr.shape[:2] != (size[1], size[0]):
                    problems.append(
                        f'size mismatch: image {s.image} is '
                        f'{size[0]}x{size[1]} (WxH) but {name} {s.label} '
                        f'is {arr.shape[1]}x{arr.shape[0]}')
                    break
        if problems:
            errors.append(f'{s.split}/{s.stem}: ' + '; '.join(problems))
            continue
        if conv.mask.dtype != np.uint8 or \
                np.setdiff1d(conv.mask, (0, 255)).size:
            raise AssertionError(f'decoder returned a mask that is not '
                                 f'uint8 0/255 for {s.label}')
        results.append(
            dict(sample=s, size=size,
                 crack=int(np.count_nonzero(conv.mask)),
                 mask=_encode_png(conv.mask, s.label),
                 extra={k: _encode_png(v, s.label)
                        for k, v in conv.extra.items()},
                 stats=dict(conv.stats)))
    return results, errors


def _write_image(sample: Sample, folder: str) -> tuple:
    """Write one image; (written path, copied unchanged?)."""
    ext = osp.splitext(sample.image)[1].lower()
    if ext in COPIED_EXTENSIONS:
        dst = osp.join(folder, sample.stem + COPIED_EXTENSIONS[ext])
        with open(sample.image, 'rb') as f:
            atomic_write_bytes(dst, f.read())
        return dst, True
    dst = osp.join(folder, sample.stem + '.png')
    atomic_write_image(dst, read_image(sample.image, 'color'))
    return dst, False


def _remove_unwritten(folder: str, written: set) -> List[str]:
    """Image/mask files in ``folder`` this run did not write (--force)."""
    removed = remove_stale_temp_files(folder)
    exts = set(IMG_EXTENSIONS) | set(MASK_EXTENSIONS)
    for name in sorted(os.listdir(folder)):
        path = osp.join(folder, name)
        if name.startswith('.') or path in written or \
                osp.splitext(name)[1].lower() not in exts or \
                not osp.isfile(path):
            continue
        os.remove(path)
        removed.append(path)
    return removed


def _new_counts() -> dict:
    return dict(images=0, pixels=0, crack_pixels=0, sizes={}, stats={})


def _add(counts: dict, r: dict) -> None:
    w, h = r['size']
    counts['images'] += 1
    counts['pixels'] += w * h
    counts['crack_pixels'] += r['crack']
    key = f'{w}x{h}'
    counts['sizes'][key] = counts['sizes'].get(key, 0) + 1
    for k, v in r['stats'].items():
        counts['stats'][k] = counts['stats'].get(k, 0) + int(v)


def _finish(counts: dict) -> dict:
    counts['crack_share'] = round(
        counts['crack_pixels'] / max(counts['pixels'], 1), 6)
    counts['sizes'] = dict(sorted(counts['sizes'].items()))
    # each stat counts pixels: also as a share of all pixels
    counts['stats_share'] = {
        k: round(v / max(counts['pixels'], 1), 6)
        for k, v in counts['stats'].items()
    }
    return counts


def convert(samples: Sequence[Sample],
            decode: Callable[[str], Converted],
            out_dir: str,
            *,
            dataset: str,
            source: str,
            options: Optional[dict] = None,
            force: bool = False,
            skipped: Iterable[dict] = (),
            notes: Iterable[str] = (),
            layout: Optional[Dict[str, str]] = None) -> dict:
    """Verify, write and summarise a list of samples (see module doc).

    Args:
        samples: the pairs to convert; ``(split, stem)`` must be unique.
        decode: label path -> :class:`Converted`; raises ValueError (naming
            the file) for a bad label.
        out_dir: output dataset root.
        dataset: dataset name for the summary (``'CFD'``...).
        source: the release folder that was read.
        options: the converter's options, recorded as given.
        force: write into a non-empty ``out_dir``: files of the same name
            are replaced, and image/mask files that this run did not write
            are removed from the split folders it writes (other folders are
            left alone).
        skipped: ``{'item': ..., 'reason': ...}`` for each item of the
            release that is not converted.
        notes: sentences for the summary and the report.
        layout: description of extra top folders (``{'classes': '...'}``).

    Returns:
        the summary written to ``out_dir/conversion.json``.

    Raises:
        OutputNotEmptyError: ``out_dir`` is not empty and not ``force``.
        ConversionError: no samples, duplicate output names, ``out_dir``
            holds a source file, or bad pairs (all listed in one message;
            nothing is written then).
        NotWritableError: ``out_dir`` cannot be created or written.
    """
    start = time.time()
    samples = list(samples)
    _check_samples(samples, source)
    _check_output(out_dir, force, samples)
    out_dir = ensure_writable_dir(out_dir, 'output folder')
    results, errors = _verify(samples, decode)
    if errors:
        raise ConversionError(
            f'{len(errors)} bad pair(s) of {len(samples)} in {source}; '
            'nothing was written:\n  ' + '\n  '.join(errors))
    splits, written, copied, reencoded = {}, {}, 0, []
    for r in results:
        s = r['sample']
        img_dir = osp.join(out_dir, IMAGE_DIR, s.split)
        dst, same_bytes = _write_image(s, img_dir)
        copied += same_bytes
        if not same_bytes:
            reencoded.append(s.image)
        outputs = [(dst, None), (osp.join(out_dir, MASK_DIR, s.split,
                                          s.stem + '.png'), r['mask'])]
        outputs += [(osp.join(out_dir, top, s.split, s.stem + '.png'), data)
                    for top, data in r['extra'].items()]
        for path, data in outputs:
            if data is not None:
                atomic_write_bytes(path, data)
            written.setdefault(osp.dirname(path), set()).add(path)
        _add(splits.setdefault(s.split, _new_counts()), r)
    removed = []
    if force:
        for folder, paths in written.items():
            removed += _remove_unwritten(folder, paths)
    total = _new_counts()
    for r in results:
        _add(total, r)
    notes = list(notes)
    if reencoded:
        notes.append(f'{len(reencoded)} image(s) were neither JPEG nor PNG '
                     '(e.g. ' + osp.basename(reencoded[0]) + '): decoded '
                     'and written as lossless 8-bit RGB PNG')
    summary = dict(
        dataset=dataset,
        source=osp.abspath(source),
        options=dict(options or {}),
        layout=dict({
            IMAGE_DIR: 'images/<split>/<stem>.jpg|png',
            MASK_DIR: 'masks/<split>/<stem>.png: 0 = background, '
                      '255 = crack'
        }, **(layout or {})),
        splits={k: _finish(v) for k, v in splits.items()},
        total=_finish(total),
        images=dict(copied_unchanged=copied, reencoded_png=len(reencoded)),
        skipped=list(skipped),
        removed_by_force=len(removed),
        notes=notes,
        seconds=round(time.time() - start, 2),
    )
    atomic_write_json(osp.join(out_dir, SUMMARY_NAME), summary)
    summary['out_dir'] = out_dir
    return summary


def _group_skipped(skipped: Sequence[dict]) -> Dict[str, List[str]]:
    groups = {}
    for item in skipped:
        groups.setdefault(item['reason'], []).append(item['item'])
    return groups


def format_report(summary: dict, limit: int = 12) -> str:
    """The console report of a summary: counts and crack-pixel share per
    split, skipped items grouped by reason, notes."""
    lines = [f"{summary['dataset']}: {summary['source']} -> "
             f"{summary.get('out_dir', '')} ({summary['seconds']:.1f} s)",
             f"  {'split':<10}{'images':>8}{'crack px':>12}{'share':>9}"
             '  sizes (WxH)']
    rows = list(summary['splits'].items()) + [('total', summary['total'])]
    for name, c in rows:
        sizes = ', '.join(f'{k} ({v})' for k, v in c['sizes'].items())
        lines.append(f"  {name:<10}{c['images']:>8}{c['crack_pixels']:>12}"
                     f"{100 * c['crack_share']:>8.3f}%  {sizes}")
    total = summary['total']
    for k, v in total['stats'].items():
        per_crack = v / max(total['crack_pixels'], 1)
        lines.append(f'  {k}: {v} ({100 * total["stats_share"][k]:.3f}% '
                     f'of all pixels, {per_crack:.3f} per crack pixel)')
    img = summary['images']
    lines.append(f"  images copied unchanged: {img['copied_unchanged']}, "
                 f"re-encoded as PNG: {img['reencoded_png']}")
    for reason, items in _group_skipped(summary['skipped']).items():
        shown = ', '.join(items[:limit])
        more = f', … ({len(items)} in all)' if len(items) > limit else ''
        lines.append(f'  skipped {len(items)}: {shown}{more} — {reason}')
    if summary['removed_by_force']:
        lines.append(f"  removed {summary['removed_by_force']} file(s) of an "
                     'earlier conversion (--force)')
    lines += [f'  note: {n}' for n in summary['notes']]
    return '\n'.join(lines)


def base_parser(description: str, src_help: str) -> argparse.ArgumentParser:
    """An argument parser with ``SRC_DIR``, ``-o/--out-dir`` and
    ``--force``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('src_dir', metavar='SRC_DIR', help=src_help)
    add_output_arguments(parser)
    return parser


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``-o/--out-dir`` (required) and ``--force`` to ``parser``."""
    parser.add_argument('-o', '--out-dir', required=True,
                        help='output dataset root (mmcrack layout)')
    parser.add_argument('--force', action='store_true',
                        help='write into a non-empty output folder')


def run_cli(prog: str, fn: Callable[[], dict]) -> dict:
    """Run a converter, print its report; exit with ``prog: error: ...``
    on a conversion, input or output error."""
    try:
        summary = fn()
    except (ConversionError, NotWritableError, FileNotFoundError) as e:
        sys.exit(f'{prog}: error: {e}')
    print(format_report(summary))
    return summary
