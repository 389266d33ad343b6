"""Thresholding branch of the pseudo-label generator (paper §III-D).

Steps:

1. :func:`bilateral_filter` — edge-preserving smoothing (``d=2``,
   ``sigma_color = sigma_space = 120`` by default; the published code uses
   ``d=5`` on the colour image).
2. :func:`rgb_to_gray` — grey conversion (the published code applies
   OpenCV's ``BGR2GRAY`` to RGB data, i.e. swapped weights:
   ``channel_order='bgr'``).
3. :func:`patch_multiotsu_mask` — 3-class multi-Otsu in every 32x32 window at
   stride 8 after min-max normalising the window; a window says "crack" for
   its pixels strictly below its lowest threshold; a pixel is crack only if
   every window covering it says so.

:func:`threshold_map` composes the three steps.

Exactness. The per-window thresholds are bit-identical to
``skimage.filters.threshold_multiotsu(window, classes=3, nbins=nbins)``
(scikit-image 0.26): the same histogram (``numpy.histogram`` over the
window's own [min, max] for floats, one bin per integer value for integer
windows), the same float32 arithmetic in the same order as scikit-image's
Cython lookup table (including two quirks: the first moment of bin 0 is
``prob[0]`` instead of ``0 * prob[0]``, and the table entry of the class
``[0, 0]`` is never filled, i.e. 0), the same first-maximum tie-break and the
same special case for exactly three occupied bins. Windows with fewer than
three occupied bins, where scikit-image raises ``ValueError``, yield NaN
thresholds and say "no crack".

Speed. scikit-image visits all ``nbins**2 / 2`` threshold pairs of one
window. Here only occupied bins are visited (the between-class variance is
constant over a run of empty bins, so a first maximum always sits at the
start of a run, plus the two quirk cases handled explicitly), for all
windows at once, with windows as the innermost array axis so that the
inner loops are long; the hot loop runs on torch's CPU kernels (float32
``+ - * / max`` are bit-identical to numpy's and use all intra-op threads).
Window histograms come from 8x8-cell histograms and box sums instead of
per-window passes.
"""
import functools

import cv2
import numpy as np
import torch

__all__ = [
    'bilateral_filter', 'rgb_to_gray', 'multiotsu_thresholds_batched',
    'patch_multiotsu_mask', 'threshold_map'
]


def bilateral_filter(img: np.ndarray,
                     d: int = 2,
                     sigma_color: float = 120.0,
                     sigma_space: float = 120.0,
                     to_gray: bool = True,
                     channel_order: str = 'rgb') -> np.ndarray:
    """Bilateral filter (``cv2.bilateralFilter``, OpenCV's default border).

    Args:
        img: (H, W) grey or (H, W, 3) colour image, uint8 (0..255) or
            float32.
        d: diameter of the pixel neighbourhood (paper: 2, published code: 5).
        sigma_color: filter sigma in the intensity space.
        sigma_space: filter sigma in the coordinate space.
        to_gray: convert a colour image to grey *before* filtering. With
            ``False`` a colour image is filtered as colour (published code)
            and stays colour.
        channel_order: channel order assumed by the grey conversion, see
            :func:`rgb_to_gray`.

    Returns:
        Filtered image of the input dtype: (H, W) if the input is grey or
        ``to_gray``, else (H, W, 3).
    """
    if img.dtype not in (np.uint8, np.float32):
        raise TypeError(f'bilateral_filter expects uint8 or float32, '
                        f'got {img.dtype}')
    if to_gray and img.ndim == 3:
        img = rgb_to_gray(img, channel_order)
    return cv2.bilateralFilter(
        np.ascontiguousarray(img), int(d), float(sigma_color),
        float(sigma_space))


def rgb_to_gray(img: np.ndarray, channel_order: str = 'rgb') -> np.ndarray:
    """Grey conversion with OpenCV's weights (0.299 R + 0.587 G + 0.114 B).

    Args:
        img: (H, W, 3) uint8 or float32 colour image; (H, W) is returned
            unchanged.
        channel_order: ``'rgb'`` — ``img`` is RGB (correct weights);
            ``'bgr'`` — apply ``COLOR_BGR2GRAY``, as the published code does
            to its RGB data (effective weights 0.114 R + 0.587 G + 0.299 B).

    Returns:
        (H, W) array of the input dtype.
    """
    if img.ndim == 2:
        return img
    codes = {'rgb': cv2.COLOR_RGB2GRAY, 'bgr': cv2.COLOR_BGR2GRAY}
    if channel_order not in codes:
        raise ValueError(f'channel_order must be one of {sorted(codes)}, '
                         f'got {channel_order!r}')
    return cv2.cvtColor(np.ascontiguousarray(img), codes[channel_order])


# --------------------------------------------------------------------------
# Exact, vectorised 3-class multi-Otsu
# --------------------------------------------------------------------------

# Search layout: windows sorted by number of occupied bins, in groups of at
# most _GROUP windows (a group ends early when the count falls below
# _GROUP_SHRINK times its largest, to limit padding); table rows in chunks of
# _ROWS (rows x columns x windows float32 temporaries of a few 100 kB).
_GROUP = 512
_GROUP_SHRINK = 0.85
_ROWS = 8


def _compact(levels: np.ndarray, counts: np.ndarray, valid: np.ndarray):
    """Move the occupied entries of each row to the front, in order.

    Args:
        levels: (N, L) int, increasing along each row where ``valid``.
        counts: (N, L) int counts.
        valid: (N, L) bool, occupied entries.

    Returns:
        ``(q, c, n)``: (N, K) levels and counts of the occupied entries
        (zero-padded), K = max n, and (N,) number of occupied entries.
    """
    n = np.count_nonzero(valid, axis=1)
    kk = int(n.max(initial=0))
    # stable sort of "unoccupied" flags keeps the level order
    order = np.argsort(~valid, axis=1, kind='stable')[:, :kk]
    keep = np.arange(kk)[None, :] < n[:, None]
    q = np.where(keep, np.take_along_axis(levels, order, axis=1), 0)
    c = np.where(keep, np.take_along_axis(counts, order, axis=1), 0)
    return q, c, n


def _otsu3_indices(q: np.ndarray, counts: np.ndarray, n: np.ndarray,
                   total: int):
    """Threshold bin indices of 3-class multi-Otsu for many histograms.

    Args:
        q: (N, K) int bin indices of the occupied bins of each histogram,
            increasing (any values beyond ``n``); the first one is 0 and the
            last one is the histogram's ``nbins - 1`` (true for
            scikit-image's histograms).
        counts: (N, K) int pixel counts of those bins, zero-padded.
        n: (N,) number of occupied bins.
        total: pixel count of every histogram.

    Returns:
        ``(t0, t1)``: (N,) int64 bin indices of the two thresholds, ``-1``
        where a histogram has fewer than 3 occupied bins.
    """
    num = len(n)
    t0 = np.full(num, -1, np.int64)
    t1 = np.full(num, -1, np.int64)
    # exactly 3 occupied bins: skimage takes flatnonzero(prob)[:-1]
    three = np.flatnonzero(n == 3)
    if len(three):
        t0[three] = q[three, 0]
        t1[three] = q[three, 1]
    search = np.flatnonzero(n > 3)
    if len(search):
        # by decreasing number of occupied bins, so that groups of
        # consecutive windows need similar table sizes
        order = search[np.argsort(-n[search], kind='stable')]
        t0[order], t1[order] = _search(q[order], counts[order], n[order],
                                       total)
    return t0, t1


def _search(q: np.ndarray, counts: np.ndarray, nb: np.ndarray, total: int):
    """Exhaustive two-threshold search, scikit-image's order and rounding.

    The candidates, in scikit-image's visiting order (t0 ascending, then t1
    ascending), form the rows of a table:

    * rows: ``t0 = 0``; ``t0 = 1`` if bin 1 is empty (the never-filled
      ``[0, 0]`` LUT entry makes it differ from ``t0 = 0``); then ``t0`` =
      each further occupied bin ``q[k]``. Other ``t0`` inside a run of empty
      bins repeat the row of the run's first bin with fewer columns, so they
      are never the first maximum.
    * in each row first ``t1 = t0 + 1`` if that bin is empty (empty middle
      class), then ``t1`` = each occupied bin ``q[m] > t0`` other than the
      last one (``t1 <= nbins - 2``).

    Every sigma is computed with scikit-image's float32 operations in its
    order, ``(H[0, t0] + H[t1 + 1, last]) + H[t0 + 1, t1]`` with
    ``H[i, j] = (S[j] - S[i - 1])**2 / (P[j] - P[i - 1])``, so values are
    bit-identical; the first maximum in visiting order is returned, as
    scikit-image's strict ``sigma > sigma_max`` update does. Row maxima are
    computed in chunks of rows for groups of windows; the winning row is
    re-evaluated to find its first maximal column.

    Args:
        q: (N, K) int bin indices of the occupied bins of N histograms
            (any values beyond ``nb``).
        counts: (N, K) int counts of those bins, zero-padded.
        nb: (N,) number of occupied bins (4 <= nb <= K), non-increasing.
        total: pixel count of every histogram.

    Returns:
        ``(t0, t1)``: (N,) int64 bin indices.
    """
    num, kk = q.shape
    cols = np.arange(num)
    last = nb - 1
    size = kk + _ROWS + 1
    # scikit-image: prob = (hist / hist.sum()).astype(float32). Beyond the
    # last bin prob = 1 keeps P strictly increasing (no 0 / 0 there; those
    # candidates are -inf through var_high_t1) and the first moment flat.
    # Window-last tables: numpy's inner loops then run over windows.
    prob = np.empty((num, size), np.float32)
    prob[:, kk:] = 1
    if total & (total - 1) == 0:  # power of two: exact in float32 alone
        np.multiply(counts, np.float32(1.0 / total), out=prob[:, :kk])
    else:
        prob[:, :kk] = counts / total
    beyond = np.arange(size)[None, :] > last[:, None]
    np.copyto(prob, np.float32(1), where=beyond)
    moment = np.zeros((num, size), np.float32)
    np.multiply(q, prob[:, :kk], out=moment[:, :kk])
    np.copyto(moment, np.float32(0), where=beyond)
    moment[:, 0] = prob[:, 0]  # scikit-image's first_moment[0] = prob[0]
    zeroth = _cumsum_rows(np.ascontiguousarray(prob.T))
    first = _cumsum_rows(np.ascontiguousarray(moment.T))
    q = q.T
    occupied = ~beyond.T
    p_last = zeroth[last, cols]
    s_last = first[last, cols]
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        # class [0, t0]: S^2 / P
        var_low = first * first / zeroth
        # class [t1 + 1, nbins - 1], also for t1 in the run after q[m]
        ds = s_last - first
        var_high = ds * ds / (p_last - zeroth)
        var_high_t1 = np.where(np.arange(size)[:, None] < last[None, :],
                               var_high, np.float32(-np.inf))
        low0 = var_low[0].copy()  # class [0, 0] of row t0 = 1 (virtual)
        var_low[0] = 0  # LUT entry [0, 0] is never filled
        virt_low = np.where(q[1] > 1, low0, np.float32(-np.inf))

        # table rows: [t0 = 0, t0 = 1 (virtual), q[1], q[2], ...]; first
        # their "empty middle class" candidates t1 = t0 + 1 (sigma =
        # (H[0, t0] + H[t1 + 1, last]) + 0, adding 0 is exact)
        gap = q[1:] > q[:-1] + 1
        gap &= occupied[1:kk]
        e_rows = np.empty((kk, num), np.float32)
        np.add(var_low[:kk - 1], var_high[:kk - 1], out=e_rows[1:])
        np.copyto(e_rows[1:], np.float32(-np.inf), where=~gap)
        e_rows[0] = e_rows[1]  # t0 = 0, t1 = 1
        e_rows[1] = np.where(q[1] > 2, low0 + var_high[0],
                             np.float32(-np.inf))  # t0 = 1, t1 = 2

        t0 = np.empty(num, np.int64)
        t1 = np.empty(num, np.int64)
        tables = [torch.from_numpy(t) for t in (var_low, var_high_t1,
                                                 zeroth, first)]
        virt_t = torch.from_numpy(virt_low[None, :])
        for c0, c1 in _groups(nb):
            kg = int(nb[c0])
            rowmax = _row_maxima(tables, virt_t, e_rows, kg, c0, c1)
            t0[c0:c1], t1[c0:c1] = _first_maximum(
                rowmax, e_rows[:kg, c0:c1], q[:kg, c0:c1], nb[c0:c1], c0,
                var_low, virt_low, var_high_t1, zeroth, first)
    return t0, t1


def _groups(nb: np.ndarray):
    """Consecutive windows (sorted by decreasing ``nb``) searched together.

    A group ends after ``_GROUP`` windows or when ``nb`` falls below
    ``_GROUP_SHRINK`` times the group's largest ``nb`` (padding waste).
    """
    groups, c0, num = [], 0, len(nb)
    while c0 < num:
        c1 = min(num, c0 + _GROUP)
        c1 = min(c1, c0 + max(1, int(np.count_nonzero(
            nb[c0:c1] >= _GROUP_SHRINK * nb[c0]))))
        groups.append((c0, c1))
        c0 = c1
    return groups


def _cumsum_rows(a: np.ndarray) -> np.ndarray:
    """``np.cumsum(a, axis=0)``: the same sequential additions in a's dtype,
    one vectorised add per row (fast for a window-last layout)."""
    out = np.empty_like(a)
    out[0] = a[0]
    for i in range(1, len(a)):
        np.add(out[i - 1], a[i], out=out[i])
    return out


def _first_maximum(rowmax, e_rows, q, nb, c0, var_low, virt_low,
                   var_high_t1, zeroth, first):
    """(t0, t1) of the first maximum of windows ``c0:c0 + B``.

    Args:
        rowmax: (R, B) maxima of the table rows (see :func:`_search`).
        e_rows: (R, B) empty-middle candidates of the rows.
        q: (R, B) occupied bins; nb: (B,) their numbers.
        c0: first window (column) in the (size, N) tables.
        var_low, virt_low, var_high_t1, zeroth, first: the (size, N) tables
            and the (N,) virtual-row term.
    """
    b = rowmax.shape[1]
    cols = np.arange(b)
    best = rowmax.max(axis=0)
    best_row = np.argmax(rowmax == best[None, :], axis=0)
    base = np.maximum(best_row - 1, 0)  # occupied bin k of the row
    virtual = best_row == 1
    t0 = np.where(virtual, 1, q[base, cols])
    t1 = t0 + 1
    need = np.flatnonzero(e_rows[best_row, cols] != best)
    if len(need) == 0:
        return t0, t1
    # re-evaluate the winning row for its first maximal column, with the
    # float32 operations of _row_values
    num = first.shape[1]
    kb = base[need]
    width = nb[need] - 2 - kb
    d = np.arange(1, int(width.max()) + 1)[:, None]
    at_k = kb * num + c0 + need
    at_m = np.minimum(kb[None, :] + d, len(first) - 1) * num + (c0 + need)
    ds = first.take(at_m) - first.take(at_k)
    ds *= ds
    ds /= zeroth.take(at_m) - zeroth.take(at_k)
    low = np.where(virtual[need], virt_low[c0 + need], var_low.take(at_k))
    vals = low + var_high_t1.take(at_m)
    vals += ds
    vals[d > width[None, :]] = -np.inf
    first_d = np.argmax(vals == best[need][None, :], axis=0)
    t1[need] = q[kb + 1 + first_d, need]
    return t0, t1


def _row_maxima(tables, virt_low, e_rows, kg, c0, c1):
    """Maxima of the table rows of windows ``c0:c1`` (``kg`` bins at most).

    Evaluated in chunks of ``_ROWS`` rows with torch's CPU kernels (IEEE
    float32 ``+ - * /`` and ``max`` are bit-identical to numpy's and to the
    Cython code's; torch runs them on all intra-op threads).

    Returns:
        (kg, c1 - c0) float32 numpy array: max of each table row, including
        its empty-middle candidate ``e_rows``.
    """
    var_low, var_high_t1, zeroth, first = tables
    rowmax = torch.from_numpy(e_rows[:kg, c0:c1].copy())
    for k0 in range(0, kg - 2, _ROWS):
        k1 = min(kg - 2, k0 + _ROWS)
        width = kg - 2 - k0  # columns m = k + 1 ... kg - 2
        part = _row_values(var_low[k0:k1, c0:c1], var_high_t1, zeroth, first,
                           k0, width, c0, c1).amax(dim=1)
        if k0 == 0:
            virt = _row_values(virt_low[:, c0:c1], var_high_t1, zeroth,
                               first, 0, width, c0, c1).amax(dim=1)
            torch.maximum(rowmax[0], part[0], out=rowmax[0])
            torch.maximum(rowmax[1], virt[0], out=rowmax[1])
            torch.maximum(rowmax[2:k1 + 1], part[1:], out=rowmax[2:k1 + 1])
        else:
            torch.maximum(rowmax[k0 + 1:k1 + 1], part,
                          out=rowmax[k0 + 1:k1 + 1])
    return rowmax.numpy()


def _row_values(low, var_high_t1, zeroth, first, k0, width, c0, c1):
    """sigma of rows ``k = k0 ... k0 + R - 1`` and columns ``m = k + d``.

    Args:
        low: (R, c1 - c0) float32 tensor, class-[0, t0] term of each row.
        var_high_t1, zeroth, first: (size, N) contiguous float32 tensors,
            per-bin tables.
        k0: occupied-bin index of the first row.
        width: number of columns, ``d = 1 ... width``.
        c0, c1: windows (columns of the tables) to evaluate.

    Returns:
        (R, width, c1 - c0) float32 tensor, ``[r, d - 1]`` =
        sigma(k0 + r, k0 + r + d), computed as scikit-image does:
        ``(low + H[m + 1, last]) + (S[m] - S[k])**2 / (P[m] - P[k])``.
    """
    rows = low.shape[0]
    num = zeroth.shape[1]

    def shifted(table):  # [r, d, c] = table[k0 + 1 + r + d, c0 + c]
        return table.as_strided((rows, width, c1 - c0), (num, num, 1),
                                (k0 + 1) * num + c0)

    ds = shifted(first) - first[k0:k0 + rows, None, c0:c1]
    ds *= ds
    dp = shifted(zeroth) - zeroth[k0:k0 + rows, None, c0:c1]
    body = low[:, None, :] + shifted(var_high_t1)
    # body + ds / dp: the quotient is rounded, then the sum (value 1 is
    # exact even if the kernel fuses the multiply-add)
    return body.addcdiv_(ds, dp)


def _numpy_histogram_bins(a: np.ndarray, nbins: int):
    """Row-wise ``np.histogram(row, bins=nbins)`` bin indices and edges.

    Re-expresses numpy's uniform-bin path for every row at once: range =
    row min/max (widened by 0.5 when flat), ``np.linspace`` edges, index
    estimate followed by numpy's one-step corrections.

    Args:
        a: (N, P) float array.

    Returns:
        ``(bins, edges)``: (N, P) intp bin indices and (N, nbins + 1) edges
        of ``a``'s dtype.
    """
    first = a.min(axis=1)
    last = a.max(axis=1)
    flat = first == last
    first = np.where(flat, first - 0.5, first).astype(a.dtype)
    last = np.where(flat, last + 0.5, last).astype(a.dtype)
    delta = last - first
    step = delta / nbins
    edges = (np.arange(nbins + 1, dtype=a.dtype)[None, :] * step[:, None] +
             first[:, None])
    edges[:, -1] = last
    f_idx = (a - first[:, None]) / delta[:, None] * nbins
    bins = f_idx.astype(np.intp)
    bins[bins == nbins] -= 1
    bins -= a < np.take_along_axis(edges, bins, axis=1)
    bins += ((a >= np.take_along_axis(edges, bins + 1, axis=1)) &
             (bins != nbins - 1))
    return bins, edges


def _run_lengths(values: np.ndarray):
    """Distinct values of each row and their counts.

    Args:
        values: (N, P) int array.

    Returns:
        ``(q, c, n)`` as :func:`_compact`: (N, K) ascending distinct values
        (zero-padded), their counts, and (N,) number of distinct values.
    """
    srt = np.sort(values, axis=1)
    start = np.ones(srt.shape, bool)
    start[:, 1:] = srt[:, 1:] != srt[:, :-1]
    pos = np.broadcast_to(np.arange(srt.shape[1]), srt.shape)
    # count of a run = next run start - this run start
    nxt = np.full(srt.shape, srt.shape[1])
    rows, idx = np.nonzero(start)
    same_row = rows[1:] == rows[:-1]
    nxt[rows[:-1][same_row], idx[:-1][same_row]] = idx[1:][same_row]
    counts = np.where(start, nxt - pos, 0)
    return _compact(srt, counts, start)


def multiotsu_thresholds_batched(windows: np.ndarray,
                                 nbins: int = 256) -> np.ndarray:
    """``skimage.filters.threshold_multiotsu(w, classes=3, nbins)`` per window.

    Args:
        windows: (N, h, w) (or (N, ...)) array. Integer windows are
            histogrammed with one bin per integer value between the window's
            min and max (``nbins`` ignored, as in scikit-image); float
            windows with ``nbins`` equal bins over the window's [min, max].
            NaN/inf values are not supported.
        nbins: number of bins for float windows.

    Returns:
        (N, 2) float64 thresholds (ascending), exactly equal to
        scikit-image's; NaN rows for windows with fewer than three occupied
        bins (where scikit-image raises ``ValueError``).
    """
    windows = np.asarray(windows)
    num = windows.shape[0]
    out = np.full((num, 2), np.nan)
    if windows.size == 0:
        return out
    flat = windows.reshape(num, -1)
    size = flat.shape[1]
    if np.issubdtype(flat.dtype, np.integer):
        mins = flat.min(axis=1).astype(np.int64)
        q, counts, n = _run_lengths(flat.astype(np.int64) - mins[:, None])
        t0, t1 = _otsu3_indices(q, counts, n, size)
        ok = t0 >= 0
        out[ok, 0] = mins[ok] + t0[ok]
        out[ok, 1] = mins[ok] + t1[ok]
        return out
    if not np.issubdtype(flat.dtype, np.floating):
        raise TypeError(f'unsupported dtype {flat.dtype}')
    bins, edges = _numpy_histogram_bins(flat, nbins)
    q, counts, n = _run_lengths(bins)
    t0, t1 = _otsu3_indices(q, counts, n, size)
    centers = (edges[:, :-1] + edges[:, 1:]) / 2.0
    ok = np.flatnonzero(t0 >= 0)
    out[ok, 0] = centers[ok, t0[ok]]
    out[ok, 1] = centers[ok, t1[ok]]
    return out


# --------------------------------------------------------------------------
# Patch-wise multi-Otsu with the agreement rule
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _normalised_luts(nbins: int):
    """Bins of the min-max normalised values of uint8 windows.

    For a window with min ``lo`` and range ``r = max - lo`` (1..255) the
    normalised value of grey level ``lo + j`` is ``j / r`` in float64 (numpy's
    ``(p - p.min()) / (p.max() - p.min())`` on uint8). Its histogram range
    is always [0, 1], so bins and bin centres are shared by all windows.

    Returns:
        ``(centers, bins, limit)``: (nbins,) float64 bin centres; (256, 256)
        intp bin of ``j / r`` (0 where ``j > r``); (256, nbins) int16
        ``limit[r, t]`` = number of ``j`` with ``j / r < centers[t]``, i.e.
        the window's pixels below the threshold ``centers[t]`` are those
        with level ``< lo + limit[r, t]``.
    """
    r = np.arange(256)[:, None]
    j = np.arange(256)[None, :]
    with np.errstate(divide='ignore', invalid='ignore'):
        value = j.astype(np.float64) / r.astype(np.float64)
    value[(j > r) | (r == 0)] = np.inf
    bins = np.zeros((256, 256), np.intp)
    for rr in range(1, 256):
        b, _ = _numpy_histogram_bins(value[rr:rr + 1, :rr + 1], nbins)
        bins[rr, :rr + 1] = b[0]
    edges = np.linspace(np.float64(0.0), np.float64(1.0), nbins + 1)
    centers = (edges[:-1] + edges[1:]) / 2.0
    limit = np.zeros((256, nbins), np.int16)
    for rr in range(1, 256):
        limit[rr] = np.searchsorted(value[rr, :rr + 1], centers, side='left')
    for arr in (centers, bins, limit):
        arr.flags.writeable = False
    return centers, bins, limit


def _reflect_pad_to_multiple(img: np.ndarray, multiple: int) -> np.ndarray:
    """Reflect-pad (edge pixel not repeated) bottom/right to a multiple."""
    h, w = img.shape[:2]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return img
    pad = [(0, ph), (0, pw)] + [(0, 0)] * (img.ndim - 2)
    return np.pad(img, pad, mode='reflect')


_LEVELS = np.arange(256, dtype=np.int16)


@functools.lru_cache(maxsize=8)
def _cell_index(hp: int, wp: int, stride: int) -> np.ndarray:
    """(hp, wp) int32: 256 x the stride x stride cell of each pixel."""
    wc = wp // stride
    idx = ((np.arange(hp) // stride)[:, None] * wc +
           (np.arange(wp) // stride)[None, :]) * 256
    idx = idx.astype(np.int32)
    idx.flags.writeable = False
    return idx


def _window_histograms(padded: np.ndarray, window: int,
                       stride: int) -> np.ndarray:
    """Grey-level histograms of all windows from stride x stride cells.

    Args:
        padded: (Hp, Wp) uint8, both multiples of ``window``.

    Returns:
        (nh, nw, 256) counts (int16 while a window has < 32768 pixels).
    """
    hp, wp = padded.shape
    hc, wc = hp // stride, wp // stride
    dtype = np.int16 if window * window < 32768 else np.int32
    hist = np.bincount((_cell_index(hp, wp, stride) + padded).ravel(),
                       minlength=hc * wc * 256).astype(dtype)
    hist = hist.reshape(hc, wc, 256)
    k = window // stride
    nh, nw = hc - k + 1, wc - k + 1
    rows = hist[:nh].copy()
    for s in range(1, k):
        rows += hist[s:s + nh]
    out = rows[:, :nw].copy()
    for s in range(1, k):
        out += rows[:, s:s + nw]
    return out


def patch_multiotsu_mask(gray: np.ndarray,
                         window: int = 32,
                         stride: int = 8,
                         nbins: int = 256) -> np.ndarray:
    """Patch-wise 3-class multi-Otsu crack mask with the agreement rule.

    The image is reflect-padded (``numpy.pad(mode='reflect')``, edge pixel
    not repeated) at the bottom and right to a multiple of ``window``;
    windows of ``window`` x ``window`` px start at every multiple of
    ``stride`` that fits. Each window is min-max normalised to [0, 1]
    (float64), thresholded with
    ``skimage.filters.threshold_multiotsu(classes=3, nbins=nbins)`` and says
    "crack" for its pixels strictly below the lower threshold; windows with
    fewer than three distinct values say "no crack" everywhere. A pixel is
    crack only if *every* window covering it says so. Interior pixels are
    covered by ``(window / stride)**2`` windows; pixels within
    ``window - stride`` px of the top/left border (and of the padded
    bottom/right border) by fewer, down to one at the top-left corner —
    exactly the published code's ``out *= mask`` accumulation. The padded
    area is cropped away.

    Args:
        gray: (H, W) uint8 grey image.
        window: window size in px; a multiple of ``stride``.
        stride: window stride in px.
        nbins: histogram bins of the normalised windows.

    Returns:
        (H, W) bool, True = crack.
    """
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise TypeError(f'gray must be a 2-D uint8 array, got '
                        f'{gray.dtype} {gray.shape}')
    if window % stride:
        raise ValueError(f'window ({window}) must be a multiple of '
                         f'stride ({stride})')
    h, w = gray.shape
    padded = np.ascontiguousarray(_reflect_pad_to_multiple(gray, window))
    hist = _window_histograms(padded, window, stride)
    nh, nw = hist.shape[:2]
    hist = hist.reshape(nh * nw, 256)
    # occupied grey levels of each window first, ascending: sort keys with
    # 256 added to unoccupied levels (whose counts are 0)
    empty = hist == 0
    n = hist.shape[1] - np.count_nonzero(empty, axis=1)
    kk = int(n.max())
    keys = empty.astype(np.int16)
    keys <<= 8
    keys |= _LEVELS
    keys.sort(axis=1)
    level = keys[:, :kk] & 255  # beyond n: unoccupied levels, count 0
    counts = np.take_along_axis(hist, level, axis=1)
    lo = level[:, 0].astype(np.intp)
    rng = level[np.arange(len(n)), n - 1] - lo
    _, bins_lut, limit_lut = _normalised_luts(nbins)
    # bins of the occupied levels (entries beyond n are not used)
    q = bins_lut.take(rng[:, None] * 256 + (level - lo[:, None]) % 256)
    if nbins < 256:
        # several grey levels may share a bin: merge them
        q, counts, n = _merge_equal_bins(
            q, counts, np.arange(kk)[None, :] < n[:, None])
    t0, _ = _otsu3_indices(q, counts, n, window * window)
    # grey-level limit per window: crack <=> level < limit
    limit = np.where(t0 >= 0, lo + limit_lut[rng, t0], 0).astype(np.int16)
    # agreement: per stride x stride cell, min of the limits of all windows
    # covering it (constant 256 outside the window grid)
    k = window // stride
    grid = np.pad(limit.reshape(nh, nw), k - 1, constant_values=256)
    cells = grid[:nh + k - 1].copy()
    for s in range(1, k):
        np.minimum(cells, grid[s:s + nh + k - 1], out=cells)
    out = cells[:, :nw + k - 1].copy()
    for s in range(1, k):
        np.minimum(out, cells[:, s:s + nw + k - 1], out=out)
    pix = np.repeat(np.repeat(out, stride, axis=0), stride, axis=1)[:h, :w]
    return gray < pix


def _merge_equal_bins(q, counts, occupied):
    """Merge consecutive occupied entries of a row that share a bin.

    Args:
        q: (N, K) bin of each entry, non-decreasing where ``occupied``.
        counts: (N, K) counts.
        occupied: (N, K) bool, a prefix of each row.

    Returns:
        ``(q, counts, n)`` with one entry per occupied bin (see
        :func:`_compact`).
    """
    start = occupied.copy()
    start[:, 1:] &= q[:, 1:] != q[:, :-1]
    csum = np.cumsum(np.where(occupied, counts, 0), axis=1)
    rows, first = np.nonzero(start)
    # a run ends before the next run start of its row, or at the row's end
    end = np.empty_like(first)
    end[:-1] = first[1:]
    last_run = np.ones(len(rows), bool)
    last_run[:-1] = rows[1:] != rows[:-1]
    end[last_run] = np.count_nonzero(occupied, axis=1)[rows[last_run]]
    before = np.where(first > 0, csum[rows, np.maximum(first - 1, 0)], 0)
    totals = np.zeros(q.shape, counts.dtype)
    totals[rows, first] = csum[rows, end - 1] - before
    return _compact(q, totals, start)


def threshold_map(img: np.ndarray,
                  d: int = 2,
                  sigma_color: float = 120.0,
                  sigma_space: float = 120.0,
                  filter_on: str = 'gray',
                  channel_order: str = 'rgb',
                  window: int = 32,
                  stride: int = 8,
                  nbins: int = 256) -> np.ndarray:
    """Thresholding branch: bilateral filter, grey, patch-wise multi-Otsu.

    Args:
        img: (H, W, 3) uint8 RGB image or (H, W) uint8 grey image.
        d, sigma_color, sigma_space: bilateral filter parameters.
        filter_on: ``'gray'`` — convert to grey, then filter (paper);
            ``'color'`` — filter the colour image, then convert (published
            code, together with ``d=5`` and ``channel_order='bgr'``).
        channel_order: see :func:`rgb_to_gray`.
        window, stride, nbins: see :func:`patch_multiotsu_mask`.

    Returns:
        (H, W) bool crack mask.
    """
    if img.dtype != np.uint8:
        raise TypeError(f'img must be uint8, got {img.dtype}')
    if filter_on == 'gray':
        gray = bilateral_filter(img, d, sigma_color, sigma_space,
                                to_gray=True, channel_order=channel_order)
    elif filter_on == 'color':
        gray = rgb_to_gray(
            bilateral_filter(img, d, sigma_color, sigma_space,
                             to_gray=False), channel_order)
    else:
        raise ValueError(f"filter_on must be 'gray' or 'color', "
                         f'got {filter_on!r}')
    return patch_multiotsu_mask(gray, window, stride, nbins)
