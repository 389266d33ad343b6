"""Exact batched Otsu and 3-class multi-Otsu thresholds of many windows.

:func:`otsu_thresholds_batched` and :func:`multiotsu_thresholds_batched`
equal ``skimage.filters.threshold_otsu(w, nbins=nbins)`` and
``threshold_multiotsu(w, classes=3, nbins=nbins)`` bit for bit (scikit-image
0.26) for every window ``w`` of a stack: the same histogram, arithmetic in
the same dtypes and order, and first-maximum tie-break. The 3-class search
also keeps two quirks of scikit-image's Cython lookup table (the first
moment of bin 0 is ``prob[0]``, not ``0 * prob[0]``; the entry of the class
``[0, 0]`` is never filled, i.e. 0) and its special case for exactly three
occupied bins.

Speed. The between-class variance is constant over a run of empty bins, so
only occupied bins are visited (scikit-image: all ``nbins**2 / 2`` pairs),
for all windows at once; the 3-class hot loop runs on torch's CPU kernels
(float32 ``+ - * / max`` bit-identical to numpy's, all intra-op threads),
windows as the tables' innermost axis.
"""
from typing import NamedTuple

import numpy as np
import torch

__all__ = [
    'OccupiedBins', 'ThresholdPair', 'multiotsu_thresholds_batched',
    'otsu_thresholds_batched', 'otsu2_bin_indices', 'otsu3_bin_indices',
    'occupied_first', 'numpy_histogram_bins'
]

# 3-class search: windows by decreasing number of occupied bins, in groups of
# at most _GROUP, ending early below _GROUP_SHRINK x the group's largest
# (padding); table rows in chunks of _ROWS (temporaries of a few 100 kB).
_GROUP = 512
_GROUP_SHRINK = 0.85
_ROWS = 8


class OccupiedBins(NamedTuple):
    """Occupied bins of N histograms, moved to the front of each row:
    ``bins`` (N, K) int indices, ascending in the first ``n_occupied`` (N,)
    entries of a row (any value beyond), and their ``counts`` (N, K), 0
    beyond; K = ``n_occupied.max()``."""
    bins: np.ndarray
    counts: np.ndarray
    n_occupied: np.ndarray


class ThresholdPair(NamedTuple):
    """(N,) int64 bin indices of 3-class thresholds, -1 where none."""
    lower: np.ndarray
    upper: np.ndarray


def occupied_first(levels: np.ndarray, counts: np.ndarray,
                   valid: np.ndarray) -> OccupiedBins:
    """Move the ``valid`` (N, L) bool entries of each row to the front:
    ``levels`` (N, L) int, increasing where ``valid``, and ``counts``."""
    n = np.count_nonzero(valid, axis=1)
    kk = int(n.max(initial=0))
    # stable sort of "unoccupied" flags keeps the level order
    order = np.argsort(~valid, axis=1, kind='stable')[:, :kk]
    keep = np.arange(kk)[None, :] < n[:, None]
    q = np.where(keep, np.take_along_axis(levels, order, axis=1), 0)
    c = np.where(keep, np.take_along_axis(counts, order, axis=1), 0)
    return OccupiedBins(q, c, n)


def otsu2_bin_indices(hist: OccupiedBins,
                      centers: np.ndarray) -> np.ndarray:
    """(N,) int64 bin of ``threshold_otsu``'s threshold, many histograms.

    Args:
        hist: occupied bins, from bin 0 to ``nbins - 1`` (as scikit-image's).
        centers: (N, K) int or float bin centre of each entry (the moments'
            dtype follows numpy's promotion with float32 counts).

    Returns:
        The last bin of the dark class; -1 for a single occupied bin.
    """
    weight = hist.counts.astype(np.float32)
    moment = weight * centers
    w1 = np.cumsum(weight, axis=1)
    w2 = np.cumsum(weight[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(divide='ignore', invalid='ignore'):
        m1 = np.cumsum(moment, axis=1) / w1
        m2 = np.cumsum(moment[:, ::-1], axis=1)[:, ::-1] / w2
        var = w1[:, :-1] * w2[:, 1:] * (m1[:, :-1] - m2[:, 1:]) ** 2
    # the last entry is no threshold; the padding beyond it is 0 / 0
    last = hist.n_occupied - 1
    var[np.arange(var.shape[1])[None, :] >= last[:, None]] = -np.inf
    idx = np.full(len(last), -1, np.int64)
    ok = np.flatnonzero(last > 0)
    if len(ok):
        idx[ok] = hist.bins[ok, np.argmax(var[ok], axis=1)]
    return idx


def otsu3_bin_indices(hist: OccupiedBins, total: int) -> ThresholdPair:
    """Bins of ``threshold_multiotsu(classes=3)``'s thresholds of many
    histograms of ``total`` pixels each, ``hist`` as in
    :func:`otsu2_bin_indices`; -1 where fewer than 3 bins are occupied."""
    q, counts, n = hist
    t0, t1 = np.full((2, len(n)), -1, np.int64)
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
        t0[order], t1[order] = _search_pairs(
            OccupiedBins(q[order], counts[order], n[order]), total)
    return ThresholdPair(t0, t1)


class _SigmaTables(NamedTuple):
    """float32 terms of the 3-class between-class variance, window-last.

    Row ``k`` of a (size, N) table is the k-th occupied bin ``q[k]`` of each
    histogram (padding beyond its last), ``H[i, j] = (S[j] - S[i - 1])**2 /
    (P[j] - P[i - 1])``: ``low`` = ``H[0, q[k]]`` (row 0 is 0: LUT entry
    [0, 0] never filled); ``high`` = ``H[q[k] + 1, last]``, -inf where t1
    would be the last bin; ``zeroth``, ``first`` = P, S; ``virtual_low``
    (N,) = ``H[0, 1]`` of the row ``t0 = 1`` where bin 1 is empty, else
    -inf; ``empty_middle`` (K, N) = sigma of the candidate ``t1 = t0 + 1``
    of the table rows ``[t0 = 0, t0 = 1, q[1], ...]``, -inf where that bin
    is occupied; ``bins`` (K, N) = ``q``; ``n_occupied`` (N,).
    """
    low: np.ndarray
    high: np.ndarray
    zeroth: np.ndarray
    first: np.ndarray
    virtual_low: np.ndarray
    empty_middle: np.ndarray
    bins: np.ndarray
    n_occupied: np.ndarray


def _sequential_cumsum(a: np.ndarray) -> np.ndarray:
    """``np.cumsum(a, axis=0)``: the same sequential additions in a's dtype,
    one vectorised add per row (fast for a window-last layout)."""
    out = np.empty_like(a)
    out[0] = a[0]
    for i in range(1, len(a)):
        np.add(out[i - 1], a[i], out=out[i])
    return out


def _sigma_tables(hist: OccupiedBins, total: int) -> _SigmaTables:
    """The tables of :func:`_search_pairs`."""
    q, counts, nb = hist
    num, kk = q.shape
    cols = np.arange(num)
    last = nb - 1
    size = kk + _ROWS + 1
    # scikit-image: prob = (hist / hist.sum()).astype(float32). Beyond the
    # last bin prob = 1 keeps P strictly increasing (no 0 / 0 there; those
    # candidates are -inf through `high`) and the first moment flat.
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
    zeroth = _sequential_cumsum(np.ascontiguousarray(prob.T))
    first = _sequential_cumsum(np.ascontiguousarray(moment.T))
    q = q.T
    occupied = ~beyond.T
    p_last = zeroth[last, cols]
    s_last = first[last, cols]
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        var_low = first * first / zeroth  # class [0, t0]: S^2 / P
        # class [t1 + 1, nbins - 1], also for t1 in the run after q[m]
        ds = s_last - first
        var_high = ds * ds / (p_last - zeroth)
        high = np.where(np.arange(size)[:, None] < last[None, :], var_high,
                        np.float32(-np.inf))
        low0 = var_low[0].copy()  # class [0, 0] of row t0 = 1 (virtual)
        var_low[0] = 0  # LUT entry [0, 0] is never filled
        virtual_low = np.where(q[1] > 1, low0, np.float32(-np.inf))
        # empty middle class: sigma = (H[0, t0] + H[t1 + 1, last]) + 0,
        # and adding 0 is exact
        gap = q[1:] > q[:-1] + 1
        gap &= occupied[1:kk]
        empty_middle = np.empty((kk, num), np.float32)
        np.add(var_low[:kk - 1], var_high[:kk - 1], out=empty_middle[1:])
        np.copyto(empty_middle[1:], np.float32(-np.inf), where=~gap)
        empty_middle[0] = empty_middle[1]  # t0 = 0, t1 = 1
        empty_middle[1] = np.where(q[1] > 2, low0 + var_high[0],
                                   np.float32(-np.inf))  # t0 = 1, t1 = 2
    return _SigmaTables(var_low, high, zeroth, first, virtual_low,
                        empty_middle, q, nb)


def _search_pairs(hist: OccupiedBins, total: int) -> ThresholdPair:
    """Exhaustive two-threshold search, scikit-image's order and rounding.

    Table rows, in scikit-image's visiting order (t0, then t1 ascending):
    ``t0 = 0``; ``t0 = 1`` if bin 1 is empty (the never-filled [0, 0] entry
    makes it differ from ``t0 = 0``); ``t0`` = each further occupied bin
    ``q[k]`` (other ``t0`` in a run of empty bins repeat the run's first row
    with fewer columns: never a first maximum). Columns: ``t1 = t0 + 1`` if
    that bin is empty, then each occupied ``q[m] > t0`` but the last one.
    Every sigma uses scikit-image's float32 operations in its order,
    ``(H[0, t0] + H[t1 + 1, last]) + H[t0 + 1, t1]``, and the first maximum
    wins (its strict ``sigma > sigma_max``). Row maxima come in chunks of
    rows for groups of windows; the winning row is re-evaluated for its
    first maximal column. ``hist``: at least 4 occupied bins, their
    number non-increasing along the histograms of ``total`` pixels each.
    """
    tables = _sigma_tables(hist, total)
    t0, t1 = np.empty((2, len(hist.n_occupied)), np.int64)
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        for group in _window_groups(hist.n_occupied):
            t0[group], t1[group] = _first_maximal_pair(
                _row_maxima(tables, group), tables, group)
    return ThresholdPair(t0, t1)


def _window_groups(nb: np.ndarray) -> list[slice]:
    """Consecutive windows (by decreasing ``nb``) searched together."""
    groups, c0, num = [], 0, len(nb)
    while c0 < num:
        c1 = min(num, c0 + _GROUP, c0 + max(1, int(np.count_nonzero(
            nb[c0:c0 + _GROUP] >= _GROUP_SHRINK * nb[c0]))))
        groups.append(slice(c0, c1))
        c0 = c1
    return groups


def _row_maxima(tables: _SigmaTables, group: slice) -> np.ndarray:
    """(kg, B) float32 row maxima of the windows ``group`` (kg = their
    largest number of occupied bins), in chunks of ``_ROWS`` rows."""
    t = _SigmaTables(*(torch.from_numpy(a) for a in tables[:6]), None, None)
    kg = int(tables.n_occupied[group.start])
    rowmax = torch.from_numpy(tables.empty_middle[:kg, group].copy())
    for k0 in range(0, kg - 2, _ROWS):
        k1 = min(kg - 2, k0 + _ROWS)
        width = kg - 2 - k0  # columns m = k + 1 ... kg - 2
        part = _block_sigmas(t, t.low[k0:k1, group], k0, width,
                             group).amax(dim=1)
        if k0 == 0:
            virt = _block_sigmas(t, t.virtual_low[None, group], 0, width,
                                 group).amax(dim=1)
            torch.maximum(rowmax[0], part[0], out=rowmax[0])
            torch.maximum(rowmax[1], virt[0], out=rowmax[1])
            torch.maximum(rowmax[2:k1 + 1], part[1:], out=rowmax[2:k1 + 1])
        else:
            torch.maximum(rowmax[k0 + 1:k1 + 1], part,
                          out=rowmax[k0 + 1:k1 + 1])
    return rowmax.numpy()


def _block_sigmas(t: _SigmaTables, low: torch.Tensor, k0: int, width: int,
                  group: slice) -> torch.Tensor:
    """(R, width, B) float32 sigma of rows ``k = k0 ... k0 + R - 1`` and
    columns ``m = k + d``, ``d = 1 ... width``, of the windows ``group``:
    ``(low + H[m + 1, last]) + (S[m] - S[k])**2 / (P[m] - P[k])`` with
    ``low`` (R, B) the class-[0, t0] term of each row, ``t`` torch tables.
    """
    rows = low.shape[0]
    num = t.zeroth.shape[1]

    def shifted(table):  # [r, d, c] = table[k0 + 1 + r + d, c0 + c]
        return table.as_strided((rows, width, group.stop - group.start),
                                (num, num, 1), (k0 + 1) * num + group.start)

    ds = shifted(t.first) - t.first[k0:k0 + rows, None, group]
    ds *= ds
    dp = shifted(t.zeroth) - t.zeroth[k0:k0 + rows, None, group]
    body = low[:, None, :] + shifted(t.high)
    # body + ds / dp: the quotient is rounded, then the sum (value 1 is
    # exact even if the kernel fuses the multiply-add)
    return body.addcdiv_(ds, dp)


def _first_maximal_pair(rowmax: np.ndarray, tables: _SigmaTables,
                        group: slice) -> ThresholdPair:
    """(t0, t1) of the first maximum of each window of ``group``, given
    the (kg, B) row maxima of :func:`_row_maxima`."""
    kg, b = rowmax.shape
    cols, c0 = np.arange(b), group.start
    q = tables.bins[:kg, group]
    best = rowmax.max(axis=0)
    best_row = np.argmax(rowmax == best[None, :], axis=0)
    base = np.maximum(best_row - 1, 0)  # occupied bin k of the row
    virtual = best_row == 1
    t0 = np.where(virtual, 1, q[base, cols])
    t1 = t0 + 1
    need = np.flatnonzero(
        tables.empty_middle[:kg, group][best_row, cols] != best)
    if len(need) == 0:
        return ThresholdPair(t0, t1)
    # re-evaluate the winning row for its first maximal column, with the
    # float32 operations of _block_sigmas
    first, zeroth = tables.first, tables.zeroth
    num = first.shape[1]
    kb = base[need]
    width = tables.n_occupied[c0 + need] - 2 - kb
    d = np.arange(1, int(width.max()) + 1)[:, None]
    at_k = kb * num + c0 + need
    at_m = np.minimum(kb[None, :] + d, len(first) - 1) * num + (c0 + need)
    ds = first.take(at_m) - first.take(at_k)
    ds *= ds
    ds /= zeroth.take(at_m) - zeroth.take(at_k)
    low = np.where(virtual[need], tables.virtual_low[c0 + need],
                   tables.low.take(at_k))
    vals = low + tables.high.take(at_m)
    vals += ds
    vals[d > width[None, :]] = -np.inf
    first_d = np.argmax(vals == best[need][None, :], axis=0)
    t1[need] = q[kb + 1 + first_d, need]
    return ThresholdPair(t0, t1)


def numpy_histogram_bins(a: np.ndarray, nbins: int):
    """Row-wise ``np.histogram(row, bins=nbins)`` of (N, P) finite floats:
    (N, P) intp bin indices in [0, nbins) and (N, nbins + 1) edges of a's
    dtype, by numpy's uniform-bin path (range = row min/max, widened by 0.5
    when flat, ``np.linspace`` edges, index estimate, one-step fixes)."""
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


def _distinct_values(values: np.ndarray) -> OccupiedBins:
    """Ascending distinct values of each row of (N, P) ints, and counts."""
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
    return occupied_first(srt, counts, start)


class _Histograms(NamedTuple):
    """scikit-image's histograms of N windows: ``occupied`` bins, and
    ``mins`` (N, 1) int64 (integer windows: bin i is the value min + i) or
    ``centers`` (N, nbins) of the windows' dtype (float windows)."""
    occupied: OccupiedBins
    mins: np.ndarray | None = None
    centers: np.ndarray | None = None

    def center(self, bins: np.ndarray) -> np.ndarray:
        """Centres of (N,) or (N, K) ``bins`` (>= 0) of each window."""
        if self.centers is None:
            return (self.mins if bins.ndim == 2 else self.mins[:, 0]) + bins
        return np.take_along_axis(self.centers, bins.reshape(
            len(bins), -1), axis=1).reshape(bins.shape)


def _histograms(windows: np.ndarray, nbins: int) -> _Histograms:
    """Histograms of (N, ...) ``windows``, as scikit-image's."""
    flat = windows.reshape(len(windows), -1)
    if np.issubdtype(flat.dtype, np.integer):
        mins = flat.min(axis=1, keepdims=True).astype(np.int64)
        return _Histograms(_distinct_values(flat.astype(np.int64) - mins),
                           mins=mins)
    if not np.issubdtype(flat.dtype, np.floating):
        raise TypeError(f'unsupported dtype {flat.dtype}')
    bins, edges = numpy_histogram_bins(flat, nbins)
    return _Histograms(_distinct_values(bins),
                       centers=(edges[:, :-1] + edges[:, 1:]) / 2.0)


def multiotsu_thresholds_batched(windows: np.ndarray,
                                 nbins: int = 256) -> np.ndarray:
    """``skimage.filters.threshold_multiotsu(w, classes=3, nbins)`` per window.

    Args:
        windows: (N, h, w) (or (N, ...)) finite array. Integer windows get
            one bin per integer value from the window's min to its max
            (``nbins`` ignored, as in scikit-image); float windows ``nbins``
            equal bins over the window's [min, max].
        nbins: number of bins for float windows.

    Returns:
        (N, 2) float64 thresholds (ascending), equal to scikit-image's; NaN
        rows where fewer than three bins are occupied (skimage raises).
    """
    windows = np.asarray(windows)
    out = np.full((len(windows), 2), np.nan)
    if windows.size == 0:
        return out
    hist = _histograms(windows, nbins)
    t = np.stack(otsu3_bin_indices(hist.occupied, windows[0].size), 1)
    ok = t[:, 0] >= 0
    out[ok] = hist.center(np.maximum(t, 0))[ok]
    return out


def otsu_thresholds_batched(windows: np.ndarray,
                            nbins: int = 256) -> np.ndarray:
    """``skimage.filters.threshold_otsu(w, nbins=nbins)`` per window.

    scikit-image's foreground is ``w > threshold``, its dark class
    ``w <= threshold``.

    Args:
        windows, nbins: see :func:`multiotsu_thresholds_batched`.

    Returns:
        (N,) float64 thresholds equal to scikit-image's: a bin centre, or
        the value of a flat window; NaN where scikit-image raises
        (``nbins=1``, a window that is not flat).
    """
    windows = np.asarray(windows)
    out = np.full(len(windows), np.nan)
    if windows.size == 0:
        return out
    hist = _histograms(windows, nbins)
    idx = otsu2_bin_indices(hist.occupied, hist.center(hist.occupied.bins))
    ok = idx >= 0
    out[ok] = hist.center(np.maximum(idx, 0))[ok]
    flat = windows.reshape(len(windows), -1)
    single = np.flatnonzero((flat == flat[:, :1]).all(axis=1))
    out[single] = flat[single, 0]
    return out
