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

How the histogram works
-----------------------
Each pixel gets a *bin* ``b = #{k : p >= t_k}`` in ``0..K`` (one pass, exact,
see :func:`threshold_bins`); one histogram of bins per class (background /
crack / ignored) is taken, and ``TP_k = #{crack pixels with b >= k}`` is a
reverse cumulative sum. O(pixels + K) per image; the result is a ``(K, 3)``
int64 array, independent of the image size.
"""
import weakref
from functools import lru_cache
from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

__all__ = [
    'DEFAULT_THRESHOLDS', 'F1_MODES', 'default_thresholds',
    'check_thresholds', 'check_prob_map', 'threshold_bins', 'pr_counts',
    'prf_from_counts',
    'average_precision', 'summarize_pr'
]

F1_MODES = ('mean', 'pooled')

#: Largest number of pixels handed to one ``cv2.calcHist`` call; its float32
#: bin counts are exact only below 2**24.
_CALC_HIST_MAX_PIXELS = 1 << 23


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


# --------------------------------------------------------------------------
# Binning: b = #{k : p >= t_k}, exactly, in one pass.
# --------------------------------------------------------------------------


class _Binner:
    """Pre-computed tables for one threshold grid (cached by value)."""

    def __init__(self, t: np.ndarray):
        self.t = t
        self.K = K = len(t)
        # Bin of each uint8 value v, meaning v / 255 (float64).
        self.lut_u8 = np.searchsorted(t, np.arange(256) / 255,
                                      side='right').astype(np.intp)
        # Uniform grid k/n: for float32 p the product p * n is exact in
        # float64 (24 + 30 bits <= 53), so floor(p * n) >= k <=> p >= k/n
        # (rational). That equals p >= fl64(k/n) unless a float32 lies
        # between k/n and its double -- checked below on the neighbours.
        n = K + 1
        self.grid_n = None
        if n < (1 << 29) and np.array_equal(t, np.arange(1, n) / n):
            if all(self._grid_ok_f32(k, n, t[k - 1]) for k in range(1, n)):
                self.grid_n = n
                self.grid_lut = np.minimum(np.arange(n + 1),
                                           n - 1).astype(np.intp)
        # General path: power-of-two buckets floor(p * M) (exact scaling),
        # lo[b] = #{t <= b/M}, then `n_fix` compares for the thresholds that
        # fall strictly inside a bucket.
        M = 1024
        while True:
            edges = np.arange(M + 1) / M
            lo = np.searchsorted(t, edges, side='right')
            inner = np.searchsorted(t, edges + 1 / M, side='left') - lo
            if inner.max() <= 1 or M >= (1 << 20):
                break
            M *= 4
        self.M = M
        self.lo = lo.astype(np.intp)
        self.n_fix = int(max(inner.max(), 0))
        self.t_pad = np.concatenate([t, np.full(self.n_fix + 1, np.inf)])

    @staticmethod
    def _grid_ok_f32(k: int, n: int, x: float) -> bool:
        f = np.float32(x)
        below = f if float(f) <= x else np.nextafter(f, np.float32(-1))
        above = f if float(f) >= x else np.nextafter(f, np.float32(2))
        for c in (below, above):
            c64 = np.float64(c)
            if (c64 >= x) != (np.floor(c64 * n) >= k):
                return False
        return True

    def keys(self, p: np.ndarray) -> Tuple[np.ndarray, int, np.ndarray]:
        """Per-pixel key (one pass), number of keys, key -> bin table."""
        if p.dtype == np.uint8:
            return p, 256, self.lut_u8
        if p.dtype == np.float32 and self.grid_n is not None:
            n = self.grid_n
            kdt = np.uint8 if n < 256 else np.int32
            # float32 product first (cheap). Rounding can only move p * n
            # *up onto* an integer k (exact p * n < k, fl32(p * n) == k),
            # never down across one (k is representable), so only pixels
            # whose float32 product is integral need the exact float64
            # product; there are few unless the map is (near) binary.
            if n < (1 << 24):  # float32(n) exact
                q32 = np.multiply(p, np.float32(n))
                key = q32.astype(kdt)
                integral = q32 == key
                n_int = np.count_nonzero(integral)
            else:
                n_int = p.size
            if n_int > p.size // 16:
                key = np.multiply(p, float(n), dtype=np.float64).astype(kdt)
            elif n_int:
                idx = np.flatnonzero(integral)
                exact = np.multiply(p.ravel()[idx], float(n),
                                    dtype=np.float64)
                key.ravel()[idx] = exact.astype(kdt)
            lut = self.grid_lut
            return key, n + 1, lut  # key n (p == 1) -> bin n - 1
        # general (float32 on a non-uniform grid, float64)
        b = np.multiply(p, float(self.M)).astype(np.intp)  # exact floor
        c = self.lo[b]
        for _ in range(self.n_fix):
            c += p >= self.t_pad[c]
        return c, self.K + 1, np.arange(self.K + 1, dtype=np.intp)


@lru_cache(maxsize=16)
def _binner_cached(key: bytes) -> _Binner:
    return _Binner(np.frombuffer(key, dtype=np.float64).copy())


def _get_binner(t: np.ndarray) -> _Binner:
    return _binner_cached(np.ascontiguousarray(t, np.float64).tobytes())


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
    key, _, lut = _get_binner(t).keys(prob)
    return lut[key]


def _class_hist(key: np.ndarray, nkeys: int, cls: np.ndarray,
                n_cls: int) -> np.ndarray:
    """Histogram of ``key + nkeys * cls`` -> int64 ``(n_cls, nkeys)``."""
    nbins = nkeys * n_cls
    if nbins <= 65536:
        comb = np.multiply(cls, np.uint16(nkeys), dtype=np.uint16)
        np.add(comb, key, out=comb, casting='unsafe')  # < nbins: fits
        comb = comb.reshape(-1, comb.shape[-1]) if comb.ndim >= 2 else \
            comb.reshape(1, -1)
        rows = max(1, _CALC_HIST_MAX_PIXELS // comb.shape[1])
        if comb.shape[1] <= _CALC_HIST_MAX_PIXELS:
            hist = np.zeros(nbins, np.int64)
            for r in range(0, comb.shape[0], rows):
                chunk = np.ascontiguousarray(comb[r:r + rows])
                h = cv2.calcHist([chunk], [0], None, [nbins], [0, nbins])
                hist += h.ravel().astype(np.int64)
            return hist.reshape(n_cls, nkeys)
        comb = comb.ravel()
    else:
        comb = key.astype(np.intp) + nkeys * cls.astype(np.intp)
    return np.bincount(comb.ravel(), minlength=nbins).reshape(n_cls, nkeys)


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
    # class code per pixel: 0 background, 1 crack, 2 ignored
    if gt.dtype == np.bool_:
        cls = gt.view(np.uint8)
        ign = None
    else:
        if not np.issubdtype(gt.dtype, np.integer):
            raise ValueError(f'{where}ground truth must be bool or integer '
                             f'(0/1), got dtype {gt.dtype}')
        pos = gt == 1
        n_pos = np.count_nonzero(pos)
        n_other = np.count_nonzero(gt) - n_pos  # pixels not 0 and not 1
        ign = None
        if n_other and ignore_index is not None:
            ign = gt == ignore_index
            n_other -= np.count_nonzero(ign)
        if n_other:
            bad = gt != 0
            bad &= ~pos
            if ign is not None:
                bad &= ~ign
            if ignore_mask is not None:
                bad &= ~ignore_mask
            if bad.any():
                vals = np.unique(gt[bad])[:10].tolist()
                allowed = '0, 1' + (f' or {ignore_index}'
                                    if ignore_index is not None else '')
                raise ValueError(
                    f'{where}ground truth has values {vals} '
                    f'({int(bad.sum())} pixels); expected {allowed}. Masks '
                    'stored as 0/255 must be mapped to 0/1 first '
                    '(mmcrack.datasets.mask_utils.binarize_mask)')
        cls = pos.view(np.uint8)
    if ignore_mask is not None and ignore_mask.any():
        ign = ignore_mask if ign is None else (ign | ignore_mask)
    if ign is not None:
        cls = cls.copy() if gt.dtype == np.bool_ else cls
        cls[ign] = 2
    n_cls = 3 if ign is not None else 2

    key, nkeys, lut = _get_binner(t).keys(prob)
    hist = _class_hist(key, nkeys, cls, n_cls)
    K = len(t)
    # key histogram -> bin histogram (bins 0..K)
    bins = np.zeros((n_cls, K + 1), np.int64)
    for c in range(n_cls):
        np.add.at(bins[c], lut, hist[c])
    neg, pos_h = bins[0], bins[1]
    # TP_k = #{crack pixels with bin > k}, k = 0..K-1
    tp = np.cumsum(pos_h[::-1])[::-1][1:]
    fp = np.cumsum(neg[::-1])[::-1][1:]
    fn = pos_h.sum() - tp
    counts = np.stack([tp, fp, fn], axis=1).astype(np.int64)
    if return_ignored:
        n_ign = int(bins[2].sum()) if n_cls == 3 else 0
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
