"""ODS / OIS / AP of a folder of probability maps against a folder of masks.

Used by ``tools/analysis_tools/eval_crack.py`` and by the pseudo-label
evaluation (pseudo-labels vs ground truth). Predictions and masks are paired
by file stem (:func:`mmcrack.utils.file_io.pair_by_stem`).

* Predictions: 8-bit grey PNG/BMP/TIF, value ``v`` meaning ``v / 255``
  (exactly: the comparison ``v / 255 >= t`` is made in float64), or
  ``.npy`` float arrays ``(H, W)`` with values in ``[0, 1]``.
* Masks: 0/255 (or 0/1 with ``mask_rule='nonzero'``), binarised with
  :func:`mmcrack.datasets.mask_utils.binarize_mask`.
"""
import io
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmcrack.utils.file_io import (
    MASK_EXTENSIONS,
    atomic_write_bytes,
    pair_by_stem,
    read_image,
)

from .functional.crack_pr import (
    check_prob_map,
    check_thresholds,
    pr_counts,
    summarize_pr,
)

__all__ = [
    'PRED_EXTENSIONS', 'load_prob_map', 'load_gt_mask', 'folder_counts',
    'evaluate_folder', 'plot_pr_curves'
]

PRED_EXTENSIONS = ('.png', '.npy', '.bmp', '.tif', '.tiff')


def load_prob_map(path: str) -> np.ndarray:
    """Read a probability map.

    Returns:
        uint8 ``(H, W)`` (image files; ``v`` means ``v / 255``) or float
        ``(H, W)`` in ``[0, 1]`` (``.npy``; float16/32/64).

    Raises:
        ValueError naming ``path``: not 2-D / multi-channel with differing
        channels, not 8-bit, integer ``.npy``, NaN/inf or outside [0, 1].
    """
    if path.lower().endswith('.npy'):
        try:
            arr = np.load(path, allow_pickle=False)
        except Exception as e:  # corrupt file, pickled object array, ...
            raise ValueError(f'{path}: cannot be loaded as .npy: {e}') from e
        if arr.ndim == 3 and arr.shape[0] == 1:
            arr = arr[0]
        if arr.ndim != 2:
            raise ValueError(f'{path}: expected a 2-D (H, W) probability '
                             f'map, got shape {arr.shape}')
        if arr.dtype.kind != 'f':
            raise ValueError(f'{path}: .npy predictions must be float in '
                             f'[0, 1], got dtype {arr.dtype}')
        if arr.dtype == np.float16:
            arr = arr.astype(np.float32)
    else:
        arr = read_image(path, 'unchanged')
        if arr.ndim == 3:
            if arr.shape[2] == 4:
                raise ValueError(f'{path}: has an alpha channel; save the '
                                 'probability map as single-channel grey')
            if not (np.array_equal(arr[..., 0], arr[..., 1])
                    and np.array_equal(arr[..., 0], arr[..., 2])):
                raise ValueError(f'{path}: colour image; a probability map '
                                 'must be grey (one channel)')
            arr = arr[..., 0]
        if arr.dtype != np.uint8:
            raise ValueError(
                f'{path}: {arr.dtype} image; probability images must be '
                '8-bit (0-255, read as v/255); use .npy for other data')
    return check_prob_map(arr, path)


def load_gt_mask(path: str, mask_rule: str = 'ge128') -> np.ndarray:
    """Read a mask and binarise it: uint8 ``(H, W)`` in {0, 1}."""
    # imported here: mmcrack.datasets pulls in mmseg, which the metric and
    # the functional code do not need
    from mmcrack.datasets.mask_utils import binarize_mask
    mask = read_image(path, 'unchanged')
    try:
        return binarize_mask(mask, mask_rule)
    except ValueError as e:
        raise ValueError(f'{path}: {e}') from e


def folder_counts(pred_dir: str,
                  gt_dir: str,
                  thresholds=None,
                  mask_rule: str = 'ge128',
                  stems: Optional[Sequence[str]] = None
                  ) -> Tuple[List[str], np.ndarray]:
    """Counts of every prediction/mask pair.

    Returns:
        ``(stems, counts)`` with counts int64 ``(N, K, 3)`` TP/FP/FN.

    Raises:
        ValueError: empty folder, unpaired stems, size mismatch or bad
            values -- naming the file(s).
    """
    t = check_thresholds(thresholds)
    pairs = pair_by_stem(pred_dir, gt_dir, exts_a=PRED_EXTENSIONS,
                         exts_b=MASK_EXTENSIONS, names=('prediction', 'mask'),
                         stems=stems)
    all_counts = []
    for stem, pred_path, gt_path in pairs:
        prob = load_prob_map(pred_path)
        gt = load_gt_mask(gt_path, mask_rule)
        if prob.shape != gt.shape:
            raise ValueError(
                f'{pred_path}: prediction is {prob.shape[0]}x{prob.shape[1]}'
                f' (HxW) but mask {gt_path} is {gt.shape[0]}x{gt.shape[1]}')
        all_counts.append(pr_counts(prob, gt.view(bool), t, name=pred_path))
    return [p[0] for p in pairs], np.stack(all_counts)


def evaluate_folder(pred_dir: str,
                    gt_dir: str,
                    thresholds=None,
                    f1_mode: str = 'mean',
                    mask_rule: str = 'ge128',
                    stems: Optional[Sequence[str]] = None) -> Dict:
    """ODS / OIS / AP of ``pred_dir`` against ``gt_dir``.

    Returns:
        :func:`~mmcrack.evaluation.functional.summarize_pr`'s dict plus
        ``stems`` (N,) in the order of the per-image arrays, ``pred_dir``
        and ``gt_dir``.
    """
    t = check_thresholds(thresholds)
    names, counts = folder_counts(pred_dir, gt_dir, t, mask_rule, stems)
    summary = summarize_pr(counts, t, f1_mode)
    summary.update(stems=names, pred_dir=pred_dir, gt_dir=gt_dir)
    return summary


def plot_pr_curves(summaries: Sequence[Tuple[str, Dict]],
                   out_path: str,
                   title: Optional[str] = None) -> None:
    """Dataset-level PR curves of one or several methods on one plot.

    Each curve is drawn through the (recall, precision) points of the
    threshold grid; the ODS threshold is marked with a dot and the legend
    gives ODS / OIS / AP. Grey lines are iso-F1 contours. Written as PNG
    (atomically) to ``out_path``.

    Args:
        summaries: ``[(label, summary_dict), ...]`` as returned by
            :func:`evaluate_folder` or ``summarize_pr``.
    """
    import matplotlib
    matplotlib.use('Agg', force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 6), dpi=120)
    r = np.linspace(0.01, 1, 200)
    for f in np.arange(0.1, 1.0, 0.1):
        p = f * r / (2 * r - f)
        ok = (p > 0) & (p <= 1) & (r >= f / 2)
        ax.plot(r[ok], p[ok], color='0.85', lw=0.8, zorder=0)
        if ok.any():
            ax.annotate(f'F={f:.1f}', (r[ok][-1], p[ok][-1]), fontsize=6,
                        color='0.6', xytext=(-22, 2),
                        textcoords='offset points')
    for label, s in summaries:
        rec, prec = np.asarray(s['recall']), np.asarray(s['precision'])
        thr = np.asarray(s['thresholds'])
        k = int(np.argmin(np.abs(thr - s['ODS_thr'])))
        line, = ax.plot(rec, prec, lw=1.6,
                        label=f'{label}  ODS={s["ODS"]:.3f} '
                        f'OIS={s["OIS"]:.3f} AP={s["AP"]:.3f}')
        ax.plot(rec[k], prec[k], 'o', color=line.get_color(), ms=6,
                mec='k', mew=0.6)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel('Recall')
    ax.set_ylabel('Precision')
    ax.set_aspect('equal')
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    ax.legend(loc='lower left', fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format='png')
    plt.close(fig)
    atomic_write_bytes(osp.abspath(out_path), buf.getvalue())
