"""Measure every crack of a folder of masks or probability maps: one CSV
row per crack, one JSON summary and one overlay per image.

Used by ``tools/measure_cracks.py`` and ``tools/infer.py --measure``.

    OUT/cracks.csv            one row per crack (CSV_COLUMNS [+ MM_COLUMNS])
    OUT/summary/<stem>.json   counts, totals, longest, widest
    OUT/overlay/<stem>.png    the cracks drawn over the image (or the map)

Every file is written atomically (temporary file + rename).
"""
import csv
import io
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from mmcrack.utils.file_io import (
    IMG_EXTENSIONS,
    atomic_write_bytes,
    atomic_write_image,
    atomic_write_json,
    ensure_writable_dir,
    list_stems,
    read_image,
)

from .crack_measurement import (
    CSV_COLUMNS,
    MM_COLUMNS,
    ORIENTATIONS,
    CrackMap,
    measure_cracks,
)
from .overlay import draw_cracks

__all__ = [
    'MAP_EXTENSIONS', 'check_measure_options', 'load_map', 'summarize',
    'measure_folder'
]

MAP_EXTENSIONS = ('.png', '.npy', '.bmp', '.tif', '.tiff')


def check_measure_options(threshold: float = 0.5,
                          px_size: Optional[float] = None,
                          min_length: float = 0.0,
                          bridge: float = 0.0) -> None:
    """Raise ``ValueError`` for an option out of range, so a tool stops
    before any work.

    Args:
        threshold: in (0, 1].
        px_size: mm per px, > 0 (or None).
        min_length: px, >= 0.
        bridge: px, >= 0.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f'threshold must be in (0, 1], got {threshold}')
    if px_size is not None and not (np.isfinite(px_size) and px_size > 0):
        raise ValueError(f'px size must be > 0 (mm per px), got {px_size}')
    if not (np.isfinite(min_length) and min_length >= 0):
        raise ValueError(f'min length must be >= 0 px, got {min_length}')
    if not (np.isfinite(bridge) and bridge >= 0):
        raise ValueError(f'bridge must be >= 0 px, got {bridge}')


def load_map(path: str) -> np.ndarray:
    """Read a mask or probability map.

    Returns:
        uint8 (H, W) for image files (0/255 or 0/1 masks, or probability
        ``v / 255``) or float (H, W) in [0, 1] for ``.npy``.

    Raises:
        ValueError naming ``path`` (not 2-D, colour, not 8-bit, float
        values outside [0, 1], ...).
    """
    # imported here: mmcrack.evaluation pulls in mmseg's metric classes
    from mmcrack.evaluation.folder_eval import load_prob_map
    return load_prob_map(path)


def summarize(stem: str, result: CrackMap, shape: Sequence[int],
              px_size: Optional[float] = None, **options) -> Dict:
    """The JSON summary of one image.

    Args:
        stem: image name.
        result: its :class:`CrackMap`.
        shape: ``(H, W)`` of the map.
        px_size: mm per px (adds the mm totals).
        **options: recorded as given (threshold, bridge_px, ...).

    Returns:
        dict: ``image``, ``height``, ``width``, the options, ``cracks``
        (count), ``branching`` (count), ``orientation`` (count per class),
        ``total_length_px``, ``total_area_px``, ``crack_area_fraction``,
        ``longest`` and ``widest`` (``crack_id`` and value, None without
        cracks), and ``*_mm`` / ``*_mm2`` twins with ``px_size``.
    """
    cracks = result.cracks
    h, w = int(shape[0]), int(shape[1])
    total_len = float(sum(c.length_px for c in cracks))
    total_area = int(sum(c.area_px for c in cracks))
    out = dict(image=stem, height=h, width=w, px_size_mm=px_size, **options)
    out.update(
        cracks=len(cracks),
        branching=sum(c.branching for c in cracks),
        orientation={o: sum(c.orientation == o for c in cracks)
                     for o in ORIENTATIONS},
        total_length_px=round(total_len, 2),
        total_area_px=total_area,
        crack_area_fraction=round(total_area / float(h * w), 6),
        longest=None, widest=None)
    if cracks:
        longest = max(cracks, key=lambda c: c.length_px)
        widest = max(cracks, key=lambda c: c.max_width_px)
        out['longest'] = dict(crack_id=longest.crack_id,
                              length_px=round(longest.length_px, 2))
        out['widest'] = dict(crack_id=widest.crack_id,
                             max_width_px=round(widest.max_width_px, 2))
    if px_size is not None:
        out['total_length_mm'] = round(total_len * px_size, 4)
        out['total_area_mm2'] = round(total_area * px_size**2, 4)
        if cracks:
            out['longest']['length_mm'] = round(longest.length_px * px_size,
                                                4)
            out['widest']['max_width_mm'] = round(
                widest.max_width_px * px_size, 4)
    return out


def _image_paths(images: Union[None, str, Dict[str, str]],
                 stems: Sequence[str]) -> Dict[str, str]:
    if images is None:
        return {}
    if isinstance(images, dict):
        files = dict(images)
    elif osp.isfile(images):
        files = {osp.splitext(osp.basename(images))[0]: images}
    else:
        files = list_stems(images, IMG_EXTENSIONS)
    missing = [s for s in stems if s not in files]
    if missing:
        shown = ', '.join(missing[:20])
        more = f', … ({len(missing)} in all)' if len(missing) > 20 else ''
        raise ValueError(f'{len(missing)} map(s) have no image in {images}: '
                         f'{shown}{more}')
    return files


def _background(arr: np.ndarray) -> np.ndarray:
    """The map itself as a dimmed grey picture (uint8 (H, W))."""
    if arr.dtype == np.uint8:
        grey = arr * np.uint8(255) if arr.max() <= 1 else arr
    else:
        grey = np.round(arr * 255).astype(np.uint8)
    return (grey.astype(np.float32) * 0.6).astype(np.uint8)


def _csv_text(rows: List[Dict], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns),
                            lineterminator='\n')
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def measure_folder(map_dir: str,
                   out_dir: str,
                   threshold: float = 0.5,
                   px_size: Optional[float] = None,
                   min_length: float = 0.0,
                   bridge: float = 0.0,
                   images: Union[None, str, Dict[str, str]] = None,
                   stems: Optional[Sequence[str]] = None,
                   **measure_options) -> Dict:
    """Measure the cracks of every map in a folder and write the results.

    Args:
        map_dir: folder of masks / probability maps: 8-bit grey images
            (0/255 or 0/1 masks, or probability ``v / 255``) or float
            ``.npy`` (H, W) in [0, 1].
        out_dir: output folder; refused (``NotWritableError``) before any
            work when it cannot be written.
        threshold: crack where probability >= threshold, in (0, 1].
        px_size: mm per px; adds the mm columns and totals.
        min_length: drop cracks shorter than this, px.
        bridge: join components at most this many px apart, px.
        images: the photos to draw on: a folder (matched by stem), one
            image file, or ``{stem: path}``; None draws on the map.
            Each must have the map's size.
        stems: measure only these stems (default: every map).
        **measure_options: more :func:`measure_cracks` options
            (``alligator_junctions``, ``longitudinal_axis``...).

    Returns:
        dict: ``rows`` (CSV rows), ``summaries`` (``{stem: summary}``),
        ``csv`` (its path).
    """
    out_dir = ensure_writable_dir(out_dir, 'output folder')
    check_measure_options(threshold, px_size, min_length, bridge)
    files = list_stems(map_dir, MAP_EXTENSIONS)
    if stems is not None:
        missing = [s for s in stems if s not in files]
        if missing:
            raise ValueError(f'no map in {map_dir} for: '
                             f'{", ".join(missing[:20])}')
        files = {s: files[s] for s in stems}
    if not files:
        raise ValueError(f'no masks or probability maps '
                         f'({", ".join(MAP_EXTENSIONS)}) in {map_dir}')
    image_files = _image_paths(images, list(files))
    options = dict(threshold=threshold, bridge_px=bridge,
                   min_length_px=min_length)
    rows, summaries = [], {}
    for stem, path in files.items():
        arr = load_map(path)
        result = measure_cracks(arr, threshold=threshold, bridge=bridge,
                                min_length=min_length, **measure_options)
        rows += result.rows(stem, px_size)
        summary = summarize(stem, result, arr.shape, px_size, **options)
        summaries[stem] = summary
        atomic_write_json(osp.join(out_dir, 'summary', stem + '.json'),
                          summary)
        if stem in image_files:
            base = read_image(image_files[stem], 'color')
            if base.shape[:2] != arr.shape:
                raise ValueError(
                    f'{image_files[stem]} is {base.shape[1]}x{base.shape[0]}'
                    f' but its map {path} is {arr.shape[1]}x{arr.shape[0]}')
        else:
            base = _background(arr)
        atomic_write_image(osp.join(out_dir, 'overlay', stem + '.png'),
                           draw_cracks(base, result, px_size))
    columns = CSV_COLUMNS + (MM_COLUMNS if px_size is not None else ())
    csv_path = osp.join(out_dir, 'cracks.csv')
    atomic_write_bytes(csv_path, _csv_text(rows, columns).encode('utf-8'))
    return dict(rows=rows, summaries=summaries, csv=csv_path)
