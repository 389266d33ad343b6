"""Exact, histogram-based ODS / OIS / AP for crack probability maps.

Pure numpy (OpenCV only for a fast histogram); no runner, no torch. Used by
:class:`mmcrack.evaluation.CrackMetric`, by
``tools/analysis_tools/eval_crack.py`` and by the pseudo-label evaluation.

Definitions (see ``docs/metrics.md``)
------------------------------------
Thresholds ``t_1 < ... < t_K`` in ``[0, 1]``, by default ``t_k = k/100``,
``k = 1..99`` (the float64 values ``np.arange(1, 100) / 100``, which are
bit-identical to the literals ``0.01, ..., 0.99``). A pixel with probability
``p`` is predicted crack at threshold ``t`` when ``p >= t``; the comparison is
made in **float64** (float32 and uint8 inputs are converted exactly, uint8
``v`` meaning ``v / 255``). So the counts equal, bit for bit, those of the
literal loop ``for t in thresholds: pred = prob.astype(np.float64) >= t``.

Per image ``i`` and threshold ``k``: TP, FP, FN over the non-ignored pixels,

* ``P = TP / (TP + FP)``, and ``P = 1`` when ``TP + FP = 0``;
* ``R = TP / (TP + FN)``, and ``R = 1`` when ``TP + FN = 0``;
* ``F1 = 2PR / (P + R)``, and ``F1 = 0`` when ``P + R = 0``.

``f1_mode='mean'`` (default, the paper's eq. 9-11):

* ``OIS = mean_i max_k F1(i, k)``;
* ``ODS = max_k mean_i F1(i, k)``, ``ODS_thr`` the first maximising ``t_k``.

``f1_mode='pooled'`` (DeepSegmentor / CrackFormer ODS, BSDS-style OIS):

* ``ODS = max_k F1(sum_i TP, sum_i FP, sum_i FN)``;
* ``OIS = F1(sum_i counts(i, k_i*))`` with ``k_i* = argmax_k F1(i, k)``.

``AP`` (both modes) from the dataset-level curve of summed counts,
``AP = sum_k (R_k - R_{k+1}) P_k`` over ascending thresholds with
``R_{K+1} = 0``. For predictions that only take values in the grid this
equals ``sklearn.metrics.average_precision_score`` on the flattened pixels.

Counting
--------
Each pixel gets a *bin* ``b = #{k : p >= t_k}`` in ``0..K`` (exact, see
:func:`threshold_bins`); one histogram of bins per class (background /
crack / ignored) gives ``TP_k = #{crack pixels with b > k}`` as a reverse
cumulative sum, O(pixels + K) per image. The engine (one-byte keys, one
``cv2.calcHist`` per chunk) is the private module
:mod:`mmcrack.evaluation.functional._threshold_binning`.
"""
import weakref
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np

from ._threshold_binning import get_binner, threshold_counts

__all__ = [
    'DEFAULT_THRESHOLDS', 'F1_MODES', 'default_thresholds',
    'check_thresholds', 'check_prob_map', 'threshold_bins', 'pr_counts',
    'prf_from_counts',
    'average_precision', 'summarize_pr'
]

F1_MODES = ('mean', 'pooled')


def default_thresholds(n: int = 100) -> np.ndarray:
    """The grid ``k / n`` for ``k = 1 .. n-1`` as float64, shape ``(n-1,)``.

    Each value is the correctly rounded ``k / n``, i.e. the same double as
    the Python literal (``default_thresholds()[28] == 0.29``).
    """
    n = int(n)
    if n < 2:
        raise ValueError(f'threshold grid needs n >= 2, got {n}')
    return np.arange(1, n) / n


DEFAULT_THRESHOLDS = default_thresholds(100)
DEFAULT_THRESHOLDS.setflags(write=False)


ThresholdsLike = Union[None, int, Sequence[float], np.ndarray]


def check_thresholds(thresholds: ThresholdsLike = None) -> np.ndarray:
    """Validate a threshold grid.

    Args:
        thresholds: ``None`` -> :data:`DEFAULT_THRESHOLDS` (0.01..0.99);
            an int ``n`` -> ``k / n`` for ``k = 1..n-1``; or a sequence of
            floats, strictly increasing, finite, within ``[0, 1]``.

    Returns:
        read-only float64 array ``(K,)``.
    """
    if thresholds is None:
        return DEFAULT_THRESHOLDS
    if isinstance(thresholds, np.ndarray) and _VALIDATED.get(
            id(thresholds)) is thresholds:
        return thresholds  # validated before (read-only, same object)
    if isinstance(thresholds, (int, np.integer)) and not isinstance(
            thresholds, bool):
        t = default_thresholds(int(thresholds))
    else:
        t = np.array(thresholds, dtype=np.float64)
        if t.ndim != 1 or t.size == 0:
            raise ValueError('thresholds must be a non-empty 1-D sequence, '
                             f'got shape {t.shape}')
        if not np.all(np.isfinite(t)) or t[0] < 0 or t[-1] > 1:
            raise ValueError('thresholds must be finite and within [0, 1], '
                             f'got {t.tolist()}')
        if np.any(np.diff(t) <= 0):
            raise ValueError('thresholds must be strictly increasing, got '
                             f'{t.tolist()}')
    t.setflags(write=False)
    _VALIDATED[id(t)] = t
    return t


_VALIDATED = weakref.WeakValueDictionary()
_VALIDATED[id(DEFAULT_THRESHOLDS)] = DEFAULT_THRESHOLDS


def check_prob_map(prob, name: Optional[str] = None) -> np.ndarray:
    """Validate a probability map: float in [0, 1] (float16 -> float32) or
    uint8; error naming ``name`` for NaN/inf/out-of-range/empty/bad dtype.
    """
    where = f'{name}: ' if name else ''
    prob = np.asarray(prob)
    if prob.size == 0:
        raise ValueError(f'{where}probability map is empty '
                         f'(shape {prob.shape})')
    if prob.dtype == np.uint8:
        return prob
    if prob.dtype == np.float16:
        prob = prob.astype(np.float32)
    if prob.dtype not in (np.float32, np.float64):
        raise ValueError(
            f'{where}probability map must be float in [0, 1] or uint8 '
            f'0-255 (meaning v/255), got dtype {prob.dtype}')
    lo, hi = prob.min(), prob.max()
    if not (lo >= 0 and hi <= 1):  # also False for NaN
        n_nan = int(np.count_nonzero(np.isnan(prob)))
        n_inf = int(np.count_nonzero(np.isinf(prob)))
        finite = prob[np.isfinite(prob)]
        n_out = int(np.count_nonzero((finite < 0) | (finite > 1)))
        parts = []
        if n_nan:
            parts.append(f'{n_nan} NaN')
        if n_inf:
            parts.append(f'{n_inf} inf')
        if n_out:
            parts.append(f'{n_out} outside [0, 1] (min {finite.min():.6g}, '
                         f'max {finite.max():.6g})')
        raise ValueError(f'{where}probability map has ' + ', '.join(parts) +
                         ' values; expected probabilities in [0, 1]')
    return prob


def threshold_bins(prob: np.ndarray,
                   thresholds: ThresholdsLike = None) -> np.ndarray:
    """Bin of each pixel: ``#{k : prob >= t_k}`` (float64 comparison).

    Args:
        prob: float array in ``[0, 1]`` or uint8 (``v / 255``), any shape.
        thresholds: see :func:`check_thresholds`.

    Returns:
        intp array of ``prob``'s shape, values in ``0..K``. Pixel is
        predicted crack at threshold index ``k`` (0-based) iff
        ``bin > k``.
    """
    t = check_thresholds(thresholds)
    prob = check_prob_map(prob, None)
    key, _, lut = get_binner(t).keys(prob)
    return lut[key]


def pr_counts(prob: np.ndarray,
              gt: np.ndarray,
              thresholds: ThresholdsLike = None,
              ignore_mask: Optional[np.ndarray] = None,
              ignore_index: Optional[int] = None,
              name: Optional[str] = None,
              return_ignored: bool = False,
              validate: bool = True):
    """Per-threshold TP / FP / FN of one image, by one histogram pass.

    Args:
        prob: crack probability, float16/32/64 in ``[0, 1]`` or uint8
            0..255 (meaning ``v / 255``), shape ``S`` (e.g. ``(H, W)``).
        gt: ground truth of shape ``S``: bool, or integers with values 0
            (background) and 1 (crack), plus ``ignore_index`` if given.
        thresholds: see :func:`check_thresholds` (default 0.01..0.99).
        ignore_mask: optional bool array of shape ``S``; True pixels are
            left out (whatever their gt value).
        ignore_index: optional gt value that marks ignored pixels (255 in
            mmseg).
        name: file or image name used in error messages.
        return_ignored: also return the number of ignored pixels.
        validate: check ``prob`` for NaN/inf/range (False only when the
            caller has just done so, e.g. with :func:`check_prob_map`).

    Returns:
        int64 array ``(K, 3)``: columns TP, FP, FN at each threshold
        (``p >= t_k``); with ``return_ignored`` a tuple ``(counts,
        n_ignored)``.

    Raises:
        ValueError: shape mismatch, NaN/inf or values outside ``[0, 1]``,
            gt values other than 0/1/``ignore_index`` -- naming ``name``.
    """
    where = f'{name}: ' if name else ''
    t = check_thresholds(thresholds)
    prob = check_prob_map(prob, name) if validate else np.asarray(prob)
    gt = np.asarray(gt)
    if gt.shape != prob.shape:
        raise ValueError(f'{where}prediction has shape {prob.shape} but the '
                         f'ground truth has shape {gt.shape}')
    if ignore_mask is not None:
        ignore_mask = np.asarray(ignore_mask, dtype=bool)
        if ignore_mask.shape != prob.shape:
            raise ValueError(f'{where}ignore_mask has shape '
                             f'{ignore_mask.shape}, expected {prob.shape}')
    counts, n_ign = threshold_counts(t, prob, gt, ignore_index,
                                     ignore_mask, where)
    if return_ignored:
        return counts, n_ign
    return counts


# --------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------


def prf_from_counts(counts: np.ndarray
                    ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1 from ``(..., 3)`` TP/FP/FN counts.

    Conventions: P = 1 when TP+FP = 0; R = 1 when TP+FN = 0; F1 = 0 when
    P+R = 0. Returns three float64 arrays of shape ``counts.shape[:-1]``.
    """
    counts = np.asarray(counts, dtype=np.float64)
    tp, fp, fn = counts[..., 0], counts[..., 1], counts[..., 2]
    dp, dr = tp + fp, tp + fn
    p = np.divide(tp, dp, out=np.ones_like(tp), where=dp > 0)
    r = np.divide(tp, dr, out=np.ones_like(tp), where=dr > 0)
    s = p + r
    f = np.divide(2 * p * r, s, out=np.zeros_like(tp), where=s > 0)
    return p, r, f


def average_precision(precision: np.ndarray, recall: np.ndarray) -> float:
    """``sum_k (R_k - R_{k+1}) P_k`` over ascending thresholds, R_{K+1}=0.

    Args:
        precision, recall: ``(K,)`` dataset-level values at ascending
            thresholds (recall is then non-increasing).
    """
    recall = np.asarray(recall, np.float64)
    r_next = np.append(recall[1:], 0.0)
    return float(np.sum((recall - r_next) * np.asarray(precision,
                                                       np.float64)))


def summarize_pr(counts: np.ndarray,
                 thresholds: ThresholdsLike = None,
                 f1_mode: str = 'mean') -> Dict[str, object]:
    """ODS, OIS, AP and the curves from per-image counts.

    Args:
        counts: int ``(N, K, 3)`` TP/FP/FN per image and threshold (from
            :func:`pr_counts`), N >= 1.
        thresholds: the grid the counts were made with (length K).
        f1_mode: ``'mean'`` (per-image F1, paper eq. 9-11) or ``'pooled'``
            (F1 of counts summed over images); see the module docstring.

    Returns:
        dict with floats ``ODS``, ``OIS``, ``AP``, ``ODS_thr`` (all in
        [0, 1]), str ``f1_mode``, int ``n_images``, and float64 arrays:
        ``thresholds`` (K,), dataset-level ``precision``/``recall``/
        ``pooled_f1`` (K,) from summed counts, ``mean_f1`` (K,) the mean
        of per-image F1, ``image_best_f1``/``image_best_thr`` (N,) each
        image's max F1 and the first threshold reaching it.
    """
    if f1_mode not in F1_MODES:
        raise ValueError(f'f1_mode must be one of {F1_MODES}, got '
                         f'{f1_mode!r}')
    t = check_thresholds(thresholds)
    counts = np.asarray(counts)
    if counts.ndim != 3 or counts.shape[2] != 3 or counts.shape[1] != len(t):
        raise ValueError(f'counts must have shape (N, {len(t)}, 3), got '
                         f'{counts.shape}')
    if counts.shape[0] == 0:
        raise ValueError('no images to evaluate (counts is empty)')
    counts = counts.astype(np.int64)
    _, _, f_img = prf_from_counts(counts)  # (N, K)
    pooled = counts.sum(axis=0)  # (K, 3)
    prec, rec, f_pool = prf_from_counts(pooled)
    mean_f1 = f_img.mean(axis=0)
    best_k = f_img.argmax(axis=1)
    image_best_f1 = f_img.max(axis=1)
    if f1_mode == 'mean':
        curve = mean_f1
        ois = float(image_best_f1.mean())
    else:
        curve = f_pool
        at_best = counts[np.arange(len(counts)), best_k].sum(axis=0)
        ois = float(prf_from_counts(at_best)[2])
    k_ods = int(np.argmax(curve))
    return dict(
        ODS=float(curve[k_ods]),
        OIS=ois,
        AP=average_precision(prec, rec),
        ODS_thr=float(t[k_ods]),
        f1_mode=f1_mode,
        n_images=int(counts.shape[0]),
        thresholds=np.array(t),
        precision=prec,
        recall=rec,
        pooled_f1=f_pool,
        mean_f1=mean_f1,
        image_best_f1=image_best_f1,
        image_best_thr=t[best_k].copy(),
    )
