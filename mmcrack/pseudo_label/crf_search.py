"""Grid search of the dense-CRF parameters of the CRF labels.

The paper tunes the CRF of its "CRF labels" comparison for each classifier
on 100 random training images with their masks, keeping the parameters
whose binary labels have the best mean IoU against the masks, and then
labels every training image with them. Here:

1. :func:`sample_pairs` draws the images (``numpy`` generator seeded by
   ``seed``; all of them when the split has fewer);
2. :func:`search_crf` computes each image's Grad-CAM once
   (:meth:`CRFLabelGenerator.cam`) and runs the CRF
   (:meth:`CRFLabelGenerator.refine`) with every parameter combination of
   the grid (:func:`grid_settings`) plus the generator's own (``base``)
   settings, labelling with the generator's ``output`` rule; the score is
   the mIoU of the labels against the masks, the mean of the crack and the
   background IoU over all pixels of the images (mmseg's ``mIoU``);
3. :func:`write_preset` writes the best parameters as a preset file on top
   of the generator's preset (``_base_`` + the ``crf`` fields), which
   ``load_preset``, ``tools/generate_pseudo_labels.py --preset FILE`` and a
   weakly-supervised config's generator (``preset=FILE``) read;
   :func:`write_results` writes every combination's scores as JSON.

The CRF is deterministic, so the same images and grid give the same result
and the same files; the best combination is the first one with the highest
mIoU in the order of :func:`grid_settings` after the base settings (so it is
never worse than the base on its own images, and the base stays unless a
combination beats it).
"""
import dataclasses
import itertools
import json
import os.path as osp
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmcrack.utils.file_io import (
    atomic_write_bytes,
    atomic_write_json,
    pair_by_stem,
)
from mmcrack.utils.sampling import random_subset

from .dense_crf import DenseCRFSettings

__all__ = [
    'DEFAULT_GRID', 'COARSE_GRID', 'CRFSearchResult', 'sample_pairs',
    'grid_settings', 'load_grid', 'search_crf', 'write_preset',
    'write_results'
]

#: The default grid (16 combinations): the Gaussian kernel's weight and
#: the bilateral kernel's spatial width, colour width and weight, around
#: pydensecrf's reference values (which it contains: 3 / 3 / 80 / 13 / 10 /
#: 5). A small bilateral width (10 px) matters for thin cracks; the
#: iterations stay at 5 (10 iterations cost 1.7x and moved the mIoU by
#: < 0.002 on CFD train, docs/pseudo_labels.md); a grid file adds them.
DEFAULT_GRID = dict(
    gaussian_compat=[1.0, 3.0],
    bilateral_sxy=[10.0, 80.0],
    bilateral_srgb=[5.0, 13.0],
    bilateral_compat=[5.0, 10.0])

#: A coarse grid (4 combinations) that also contains the reference values.
COARSE_GRID = dict(bilateral_sxy=[10.0, 80.0],
                   bilateral_srgb=[5.0, 13.0])

_GRIDS = dict(default=DEFAULT_GRID, coarse=COARSE_GRID)
_FIELDS = [f.name for f in dataclasses.fields(DenseCRFSettings)]


@dataclass
class CRFSearchResult:
    """What :func:`search_crf` found.

    Attributes:
        best: the best ``crf`` settings (all :class:`DenseCRFSettings`
            fields).
        best_miou: its mIoU in [0, 1].
        base: the generator's own ``crf`` settings.
        base_miou: their mIoU.
        results: one dict per evaluated combination, base first:
            ``crf`` (the settings), ``miou``, ``crack_iou``,
            ``background_iou`` (over all pixels), ``mean_image_crack_iou``
            (mean over images; an image whose label and mask are both empty
            counts 1), ``is_base``.
        stems: the images' stems.
        seconds: wall time of the CAMs (``cam``) and of the CRF runs
            (``crf``); CPU time of the CRF runs in all processes
            (``crf_cpu``) and per image and combination.
    """
    best: dict
    best_miou: float
    base: dict
    base_miou: float
    results: List[dict] = field(default_factory=list)
    stems: List[str] = field(default_factory=list)
    seconds: Dict[str, float] = field(default_factory=dict)


def sample_pairs(data_root: str, split: str = 'train',
                 num_images: int = 100,
                 seed: int = 0) -> List[Tuple[str, str, str]]:
    """Random images of a split with their masks.

    Args:
        data_root: a dataset in mmcrack's layout
            (``images/<split>/<stem>.jpg``, ``masks/<split>/<stem>.png``).
        split: the split folder.
        num_images: how many (> 0); all of them when the split has fewer.
        seed: seed of ``numpy.random.default_rng``; the sample depends on
            it and on the sorted stems only.

    Returns:
        ``[(stem, image_path, mask_path), ...]`` sorted by stem.
    """
    if num_images <= 0:
        raise ValueError(f'num_images must be > 0, got {num_images}')
    pairs = pair_by_stem(osp.join(data_root, 'images', split),
                         osp.join(data_root, 'masks', split))
    if num_images >= len(pairs):
        return pairs
    return random_subset(pairs, num_images, seed)


def load_grid(grid) -> Dict[str, list]:
    """A grid by name (``'default'``, ``'coarse'``), from a JSON file, or
    as a dict.

    Args:
        grid: ``'default'`` / ``'coarse'``, a path to a JSON object
            ``{field: [values, ...]}``, or such a dict. Fields are those of
            :class:`DenseCRFSettings`; fields left out keep the base value.

    Raises:
        KeyError: an unknown field. ValueError: an empty or non-list value.
    """
    if isinstance(grid, str):
        if grid in _GRIDS:
            grid = _GRIDS[grid]
        else:
            if not osp.isfile(grid):
                raise FileNotFoundError(
                    f"grid {grid!r} is neither {' / '.join(_GRIDS)} nor a "
                    'JSON file')
            with open(grid) as f:
                grid = json.load(f)
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f'a grid is a non-empty dict of lists, got {grid!r}')
    out = {}
    for key, values in grid.items():
        if key not in _FIELDS:
            raise KeyError(f'grid: unknown CRF setting {key!r}; known: '
                           f'{_FIELDS}')
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(f'grid: {key} must be a non-empty list, got '
                             f'{values!r}')
        out[key] = list(values)
    return out


def grid_settings(grid, base: DenseCRFSettings) -> List[DenseCRFSettings]:
    """Every combination of a grid, fields not in it from ``base``.

    Args:
        grid: see :func:`load_grid`.
        base: the settings the combinations start from.

    Returns:
        The distinct combinations, in the order of ``itertools.product``
        over the fields in :class:`DenseCRFSettings` order (each field's
        values as listed). Bad values raise ``ValueError``.
    """
    grid = load_grid(grid)
    keys = [k for k in _FIELDS if k in grid]
    out = []
    for values in itertools.product(*(grid[k] for k in keys)):
        settings = dataclasses.replace(base, **dict(zip(keys, values)))
        if settings not in out:
            out.append(settings)
    return out


def _counts(generator, crf, cams, images, masks) -> Tuple[np.ndarray, float]:
    """(N, 4) int64 TP, FP, FN, TN of the labels of every image, and the
    CPU seconds it took."""
    cpu = time.process_time()
    out = np.zeros((len(cams), 4), np.int64)
    for i, (cam, img, mask) in enumerate(zip(cams, images, masks)):
        pred = generator.output.label(generator.refine(cam, img, crf)) > 0
        tp = int(np.count_nonzero(pred & mask))
        fp = int(np.count_nonzero(pred)) - tp
        fn = int(np.count_nonzero(mask)) - tp
        out[i] = tp, fp, fn, mask.size - tp - fp - fn
    return out, time.process_time() - cpu


def _scores(counts: np.ndarray) -> dict:
    tp, fp, fn, tn = (int(v) for v in counts.sum(axis=0))
    crack = tp / (tp + fp + fn) if tp + fp + fn else 1.0
    background = tn / (tn + fp + fn) if tn + fp + fn else 1.0
    union = counts[:, 0] + counts[:, 1] + counts[:, 2]
    per_image = np.where(union > 0, counts[:, 0] / np.maximum(union, 1), 1.0)
    return dict(miou=(crack + background) / 2, crack_iou=crack,
                background_iou=background,
                mean_image_crack_iou=float(per_image.mean()))


_WORKER = {}  # the data of a worker process (inherited through fork)


def _init_worker(args):
    _WORKER['args'] = args


def _worker_counts(crf):
    generator, cams, images, masks = _WORKER['args']
    return _counts(generator, crf, cams, images, masks)


def search_crf(generator,
               images: Sequence[np.ndarray],
               masks: Sequence[np.ndarray],
               grid='default',
               stems: Optional[Sequence[str]] = None,
               workers: int = 1,
               log=print) -> CRFSearchResult:
    """Grid-search the CRF parameters of a CRF-label generator.

    Args:
        generator: a :class:`~.crf_label_generator.CRFLabelGenerator` (or
            an object with its ``cam(img)``, ``refine(cam, img, crf)``,
            ``crf`` and ``output``).
        images: uint8 RGB (H, W, 3) images.
        masks: their ground truth, (H, W) bool or 0/1 (any non-zero is
            crack).
        grid: see :func:`load_grid`; the generator's ``crf`` settings are
            evaluated too (first) whether or not the grid contains them.
        stems: names of the images (for the result); default indices.
        workers: processes for the CRF runs (``fork``; 1 runs in this
            process). The result does not depend on it.
        log: called with one progress line per combination; None is silent.

    Returns:
        :class:`CRFSearchResult`.
    """
    if len(images) != len(masks) or not len(images):
        raise ValueError(f'need as many masks as images (> 0), got '
                         f'{len(images)} images and {len(masks)} masks')
    masks = [np.asarray(m) > 0 for m in masks]
    for i, (img, mask) in enumerate(zip(images, masks)):
        if img.shape[:2] != mask.shape:
            raise ValueError(f'image {i}: image {img.shape[:2]} and mask '
                             f'{mask.shape} differ in size')
    stems = list(stems) if stems is not None else [
        str(i) for i in range(len(images))]
    start = time.time()
    cams = [generator.cam(img) for img in images]
    cam_seconds = time.time() - start
    base = generator.crf
    combos = [base] + [s for s in grid_settings(grid, base) if s != base]
    start = time.time()
    if workers > 1:
        import multiprocessing
        ctx = multiprocessing.get_context('fork')
        with ctx.Pool(workers, _init_worker,
                      ((generator, cams, images, masks), )) as pool:
            counts = pool.imap(_worker_counts, combos)
            results, cpu = _collect(combos, counts, start, log)
    else:
        counts = (_counts(generator, c, cams, images, masks)
                  for c in combos)
        results, cpu = _collect(combos, counts, start, log)
    best = max(range(len(results)), key=lambda i: (results[i]['miou'], -i))
    return CRFSearchResult(
        best=dict(results[best]['crf']), best_miou=results[best]['miou'],
        base=dataclasses.asdict(base), base_miou=results[0]['miou'],
        results=results, stems=stems,
        seconds=dict(cam=round(cam_seconds, 3),
                     crf=round(time.time() - start, 3),
                     crf_cpu=round(cpu, 3),
                     crf_cpu_per_image_and_combination=round(
                         cpu / len(combos) / len(images), 4)))


def _collect(combos, counts, start, log):
    """Scores of each combination (and the summed CPU seconds), logging a
    line per combination as the counts arrive."""
    results, cpu_total = [], 0.0
    for i, (crf, (c, cpu)) in enumerate(zip(combos, counts)):
        results.append(dict(crf=dataclasses.asdict(crf), is_base=i == 0,
                            **_scores(c)))
        cpu_total += cpu
        if log is not None:
            log(f'[{i + 1}/{len(combos)}] mIoU {results[-1]["miou"]:.4f} '
                f'crack IoU {results[-1]["crack_iou"]:.4f} '
                f'{_short(crf)} ({time.time() - start:.0f} s)')
    return results, cpu_total


def _short(crf: DenseCRFSettings) -> str:
    return ' '.join(f'{k}={v}' for k, v in dataclasses.asdict(crf).items()
                    if k != 'eps')


def _delta(base: dict, settings: dict) -> dict:
    """The fields of ``settings`` that differ from ``base`` (nested)."""
    out = {}
    for key, value in settings.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            sub = _delta(base[key], value)
            if sub:
                out[key] = sub
        elif base.get(key, object()) != value:
            out[key] = value
    return out


def _dict_source(d: dict, indent: int) -> str:
    """``dict(key=value, ...)`` source of a nested dict, one field a line."""
    pad = ' ' * (indent + 4)
    items = []
    for key, value in d.items():
        text = (_dict_source(value, indent + 4) if isinstance(value, dict)
                else repr(value))
        items.append(f'{pad}{key}={text}')
    return 'dict(\n' + ',\n'.join(items) + ')'


def write_preset(path: str, result: CRFSearchResult, base_preset: str,
                 comment: str = '', settings: Optional[dict] = None) -> str:
    """Write the best parameters as a preset file (an mmengine config).

    The file is ``_base_ = ['<base_preset, relative to the file>']`` and
    ``pseudo_label_generator = dict(crf=dict(<every field>), ...)``; it
    holds no time or date, so the same result gives the same bytes.

    Args:
        path: the ``.py`` file to write (atomically).
        result: from :func:`search_crf`.
        base_preset: the preset file the search's generator was built from
            (e.g. ``configs/_base_/pseudo_label/crf.py``).
        comment: lines put at the top as ``#`` comments.
        settings: the search generator's ``settings()``; its fields that
            differ from ``base_preset`` (e.g. overrides of ``cam``) are
            written too, so the file rebuilds the searched generator.

    Returns:
        ``path``.
    """
    from .presets import load_preset
    if not path.endswith('.py'):
        raise ValueError(f'a preset file ends with .py, got {path}')
    rel = osp.relpath(osp.abspath(base_preset),
                      osp.dirname(osp.abspath(path)))
    delta = _delta(load_preset(base_preset), settings or {})
    delta['crf'] = dict(result.best)
    lines = [f'# {line}'.rstrip() for line in comment.splitlines()]
    lines += [
        f'# best mIoU {result.best_miou:.6f} on {len(result.stems)} images '
        f'(base settings {result.base_miou:.6f}), '
        f'{len(result.results)} combinations',
        f'_base_ = [{rel!r}]',
        'pseudo_label_generator = ' + _dict_source(delta, 0),
        '',
    ]
    atomic_write_bytes(path, '\n'.join(lines).encode())
    return path


def write_results(path: str, result: CRFSearchResult, **info) -> str:
    """Write every combination's scores (and ``info``) as JSON.

    Returns:
        ``path``.
    """
    atomic_write_json(path, dict(info, **dataclasses.asdict(result)),
                      indent=1)
    return path
