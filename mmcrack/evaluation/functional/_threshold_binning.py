"""Threshold binning engine behind ``crack_pr.pr_counts``: per-threshold
TP / FP / FN of one image from one histogram pass.

Private: definitions, validation and summaries are in
:mod:`mmcrack.evaluation.functional.crack_pr`, which hands this module
checked inputs; the counts equal those of the literal loop
``for t in thresholds: pred = prob.astype(np.float64) >= t``.

How the histogram works
-----------------------
Each pixel gets a *bin* ``b = #{k : p >= t_k}`` in ``0..K`` (exact, see
:meth:`Binner.keys`); one histogram of bins per class (background /
crack / ignored) is taken, and ``TP_k = #{crack pixels with b > k}`` is a
reverse cumulative sum. O(pixels + K) per image; the result is a ``(K, 3)``
int64 array, independent of the image size.

For uint8 maps, and float maps on grids of at most 255 thresholds (the
default has 99), every pixel first gets a one-byte *key*: the value of a
uint8 map (a 256-entry table gives its bin afterwards); ``floor(p * n)`` for
float32 maps on the grid ``k/n`` (float32 product, recomputed in float64
where it is integral -- the only place it can differ from the exact
product); the bin otherwise (:meth:`Binner.keys8`). Key, crack flag and
pixel position mod 8 make one uint16 code per pixel and one
``cv2.calcHist`` counts the image (:func:`_bins_key8`); an integer gt is
checked for 0/1 while it is copied. About ten numpy passes per image: a
544x384 float32 map with mmseg's int64 mask takes ~0.4-0.6 ms on a 2-core
VM, mostly memory traffic (the int64 mask alone is 1.7 MB); a uint8 map
with a bool mask ~0.2 ms.
"""
import threading
from functools import lru_cache
from typing import Optional, Tuple

import cv2
import numpy as np

__all__ = ['Binner', 'get_binner', 'threshold_counts']

#: Largest number of pixels handed to one ``cv2.calcHist`` call; its float32
#: bin counts are exact only below 2**24.
CALC_HIST_MAX_PIXELS = 1 << 23

#: Pixels per chunk of the 8-bit key path; bounds its per-thread scratch
#: buffers (about 6 bytes per pixel of a chunk).
KEY8_CHUNK = 1 << 20

#: The histogram of the 8-bit key path spreads every (key, crack) pair over
#: ``SPREAD`` sub-bins (pixel index mod ``SPREAD``), so that runs of equal
#: keys -- a background that is almost all ``p < 0.01`` -- increment
#: different counters; one counter per key is ~3x slower on such maps
#: (each increment waits for the previous store).
SPREAD = 8


class Binner:
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
        # 8-bit key path (see `_bins_key8`): uint8 maps (the value is the
        # key) and float maps on grids of at most 255 thresholds.
        self.key8 = K + 1 <= 256
        self.n8 = (self.grid_n if self.grid_n is not None
                   and self.grid_n + 1 <= 256 else None)

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

    def keys8(self, p: np.ndarray, scratch: '_Scratch') -> np.ndarray:
        """uint8 key of each pixel of the 1-D float chunk ``p``
        (``self.key8``).

        Returns a scratch buffer: ``floor(p * n)`` (``0..n``) for float32
        on the uniform grid ``k/n`` (bin ``min(key, n - 1)``), otherwise the
        bin itself (``0..K``).
        """
        m = p.shape[0]
        k = scratch.get('k', np.uint8, m)
        n = self.n8
        if p.dtype == np.float32 and n is not None:
            # floor(fl32(p * n)) equals the exact floor(p * n) unless the
            # float32 product rounded up onto an integer (see `keys`):
            # recompute exactly (float64) where the product is integral.
            q = scratch.get('q', np.float32, m)
            np.multiply(p, np.float32(n), out=q)
            np.copyto(k, q, casting='unsafe')  # truncation = floor (>= 0)
            integral = scratch.get('b', np.bool_, m)
            np.equal(q, k, out=integral)
            n_int = np.count_nonzero(integral)
            if n_int > m // 16:
                np.multiply(p, float(n), out=k, dtype=np.float64,
                            casting='unsafe')
            elif n_int:
                idx = np.flatnonzero(integral)
                k[idx] = np.multiply(p[idx], float(n), dtype=np.float64)
            return k
        key, _, lut = self.keys(p)
        if p.dtype == np.float32 and self.grid_n is not None:
            key = lut[key]  # grid keys 0..n -> bins 0..K
        np.copyto(k, key, casting='unsafe')  # bins 0..K <= 255
        return k


class _Scratch(threading.local):
    """Per-thread scratch buffers of the 8-bit key path, grown on demand."""

    def __init__(self):
        self.bufs = {}

    def get(self, name: str, dtype, m: int) -> np.ndarray:
        buf = self.bufs.get(name)
        if buf is None or buf.shape[0] < m:
            buf = np.empty(max(m, 1), dtype)
            self.bufs[name] = buf
        return buf[:m]


_SCRATCH = _Scratch()
_SPREAD_PATTERN = np.zeros(0, np.uint16)


def _spread_pattern(m: int) -> np.ndarray:
    """``(i mod SPREAD) * 512`` for ``i < m`` (uint16, read-only)."""
    global _SPREAD_PATTERN
    pat = _SPREAD_PATTERN
    if pat.shape[0] < m:
        pat = (np.arange(m) % SPREAD * 512).astype(np.uint16)
        pat.setflags(write=False)
        _SPREAD_PATTERN = pat  # atomic swap; readers keep their reference
    return pat[:m]


@lru_cache(maxsize=16)
def _binner_cached(key: bytes) -> Binner:
    return Binner(np.frombuffer(key, dtype=np.float64).copy())


def get_binner(t: np.ndarray) -> Binner:
    """The :class:`Binner` of a grid, cached by value (16 grids).

    Args:
        t: validated threshold grid, float64 ``(K,)``.
    """
    return _binner_cached(np.ascontiguousarray(t, np.float64).tobytes())


def _class_hist(key: np.ndarray, nkeys: int, cls: np.ndarray,
                n_cls: int) -> np.ndarray:
    """Histogram of ``key + nkeys * cls`` -> int64 ``(n_cls, nkeys)``."""
    nbins = nkeys * n_cls
    if nbins <= 65536:
        comb = np.multiply(cls, np.uint16(nkeys), dtype=np.uint16)
        np.add(comb, key, out=comb, casting='unsafe')  # < nbins: fits
        comb = comb.reshape(-1, comb.shape[-1]) if comb.ndim >= 2 else \
            comb.reshape(1, -1)
        rows = max(1, CALC_HIST_MAX_PIXELS // comb.shape[1])
        if comb.shape[1] <= CALC_HIST_MAX_PIXELS:
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


def threshold_counts(t: np.ndarray, prob: np.ndarray, gt: np.ndarray,
                     ignore_index: Optional[int] = None,
                     ignore_mask: Optional[np.ndarray] = None,
                     where: str = '') -> Tuple[np.ndarray, int]:
    """TP / FP / FN at each threshold of one image, and the ignored pixels.

    Args:
        t: validated threshold grid, float64 ``(K,)``, strictly increasing
            in ``[0, 1]`` (``crack_pr.check_thresholds``).
        prob: validated map of shape ``S``: float32/float64 in ``[0, 1]``
            or uint8 0..255 (meaning ``v / 255``).
        gt: ground truth of shape ``S``: bool, or integers 0/1 plus
            ``ignore_index``; other values raise.
        ignore_index: optional gt value of ignored pixels.
        ignore_mask: optional bool array of shape ``S`` (True = ignored).
        where: prefix of error messages (``'name: '`` or ``''``).

    Returns:
        ``(counts, n_ignored)``: int64 ``(K, 3)`` columns TP, FP, FN at
        each threshold (``p >= t_k``), and the int number of ignored
        pixels.
    """
    binner = get_binner(t)
    K = len(t)
    if binner.key8 or prob.dtype == np.uint8:
        neg, pos_h, n_ign = _bins_key8(binner, prob, gt, ignore_index,
                                       ignore_mask, where)
    else:  # > 255 thresholds: wide keys, (key, class) histogram
        crack, ign = _gt_classes(gt, ignore_index, ignore_mask, where)
        cls = crack.astype(np.uint8)
        if ign is not None:
            cls[ign] = 2
        key, nkeys, lut = binner.keys(prob)
        hist = _class_hist(key, nkeys, cls, 3)
        bins = np.zeros((3, K + 1), np.int64)
        for c in range(3):
            np.add.at(bins[c], lut, hist[c])
        neg, pos_h, n_ign = bins[0], bins[1], int(bins[2].sum())
    # TP_k = #{crack pixels with bin > k}, k = 0..K-1 (bins 0..K); FP
    # likewise; FN_k = #crack - TP_k. cum[j] = #{bin >= K - j}.
    cum_pos = np.cumsum(pos_h[::-1])
    counts = np.empty((K, 3), np.int64)
    counts[:, 0] = cum_pos[K - 1::-1]
    counts[:, 1] = np.cumsum(neg[::-1])[K - 1::-1]
    np.subtract(cum_pos[K], counts[:, 0], out=counts[:, 2])
    return counts, n_ign


def _gt_classes(gt: np.ndarray, ignore_index: Optional[int],
                ignore_mask: Optional[np.ndarray], where: str
                ) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Validate ``gt``; return ``(crack, ignored)``.

    ``crack`` has values 0/1 (bool or integer; ``gt`` itself when it holds
    only 0 and 1), ``ignored`` is a bool array or None.
    """
    if gt.dtype == np.bool_:
        crack, ign = gt, None
    else:
        if gt.dtype.kind not in 'iu':
            raise ValueError(f'{where}ground truth must be bool or integer '
                             f'(0/1), got dtype {gt.dtype}')
        # one reduction: read as unsigned (same size and byte order),
        # negative values are huge
        if gt.view(gt.dtype.str.replace('i', 'u')).max() <= 1:
            crack, ign = gt, None
        else:
            crack, ign = _gt_classes_slow(gt, ignore_index, ignore_mask,
                                          where)
    if ignore_mask is not None and ignore_mask.any():
        ign = ignore_mask if ign is None else (ign | ignore_mask)
    return crack, ign


def _gt_classes_slow(gt, ignore_index, ignore_mask, where):
    """Integer gt with values other than 0/1: ``ignore_index`` or errors."""
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
    return pos, ign


#: Block size (pixels) of `_copy_if_01`: a block of int64 is 256 KB.
GT_BLOCK = 1 << 15


def _copy_if_01(src: np.ndarray, src_uns: np.ndarray,
                out: np.ndarray) -> bool:
    """Copy ``src`` to ``out`` block by block while every value is 0 or 1
    (``src_uns``: the same memory as unsigned, where negative values are
    huge); False at the first block holding anything else."""
    step = GT_BLOCK
    for i in range(0, src.shape[0], step):
        if src_uns[i:i + step].max() > 1:
            return False
        np.copyto(out[i:i + step], src[i:i + step], casting='unsafe')
    return True


def _bins_key8(binner: Binner, prob: np.ndarray, gt: np.ndarray,
               ignore_index: Optional[int],
               ignore_mask: Optional[np.ndarray], where: str
               ) -> Tuple[np.ndarray, np.ndarray, int]:
    """Bin histograms of background and crack pixels, and the number of
    ignored pixels, from one uint8 key per pixel.

    The key is the value of a uint8 map (mapped to its bin afterwards), else
    :meth:`Binner.keys8` (``binner.key8``). Per chunk of pixels, one
    ``cv2.calcHist`` of ``key + 256 * crack + 512 * (i mod SPREAD)``
    (uint16; the spread sends runs of equal keys to different counters).
    Ignored pixels are not crack; their keys are counted with the ignore
    mask and taken off the background. Chunks have at most
    ``CALC_HIST_MAX_PIXELS < 2**24`` pixels, so the float32 counts of
    ``cv2.calcHist`` are exact. The keys are computed before gt is read:
    ``prob`` was usually just validated and is still in cache.
    """
    p = prob.reshape(-1)
    n_pix = p.shape[0]
    u8 = p.dtype == np.uint8
    chunk = max(1, min(KEY8_CHUNK, CALC_HIST_MAX_PIXELS))
    scratch = _SCRATCH
    nb = 512 * SPREAD
    u256 = np.uint16(256)
    h = np.zeros(nb, np.float64)
    h_ign = np.zeros(256, np.float64)
    # Wide integer masks (mmseg's int64) are checked for 0/1 while they are
    # copied, block by block (the second read hits the cache); at the first
    # other value the general route (`_gt_classes`) takes over from that
    # chunk on -- the chunks before held only 0/1, so their counts stand.
    wide = (gt.dtype.kind in 'iu' and gt.dtype.itemsize > 1
            and gt.dtype.isnative
            and (ignore_mask is None or not ignore_mask.any()))
    if wide:
        g_flat = gt.reshape(-1)
        g_uns = g_flat.view(f'u{gt.dtype.itemsize}')
    crack = ign = None
    for s in range(0, n_pix, chunk):
        e = min(n_pix, s + chunk)
        m = e - s
        k = p[s:e] if u8 else binner.keys8(p[s:e], scratch)
        # uint16 keys in keys8's float32 scratch (free again): a small
        # working set stays in cache
        k16 = scratch.get('q', np.float32, (m + 1) // 2).view(np.uint16)[:m]
        if wide:
            wide = _copy_if_01(g_flat[s:e], g_uns[s:e], k16)
            c = k16
        if not wide:
            if crack is None:
                crack, ign = _gt_classes(gt, ignore_index, ignore_mask,
                                         where)
                if ign is not None:
                    crack = np.logical_and(crack, ~ign)
                    ign = ign.reshape(-1).view(np.uint8)
                crack = crack.reshape(-1)
                if crack.dtype == np.bool_ or crack.dtype == np.int8:
                    crack = crack.view(np.uint8)
            c = crack[s:e]
            if c.dtype != np.uint8:  # validated 0/1 integers
                np.copyto(k16, c, casting='unsafe')
                c = k16
        np.multiply(c, u256, out=k16)  # crack << 8 (numpy shifts: no SIMD)
        np.add(k16, k, out=k16)
        np.add(k16, _spread_pattern(m), out=k16)
        h += cv2.calcHist([k16.reshape(1, m)], [0], None, [nb],
                          [0, nb]).ravel()
        if ign is not None:
            h_ign += cv2.calcHist([k.reshape(1, m)], [0],
                                  ign[s:e].reshape(1, m), [256],
                                  [0, 256]).ravel()
    h = h.reshape(SPREAD, 2, 256).sum(axis=0)
    h_neg = (h[0] - h_ign).astype(np.int64)  # ignored keys: in background
    h_pos = h[1].astype(np.int64)
    n_ign = int(h_ign.sum())
    K = binner.K
    if u8:  # value -> bin
        lut = binner.lut_u8
        return (np.bincount(lut, h_neg, K + 1).astype(np.int64),
                np.bincount(lut, h_pos, K + 1).astype(np.int64), n_ign)
    if p.dtype == np.float32 and binner.n8 is not None:
        n = binner.n8  # keys floor(p * n) in 0..n; key n (p = 1) -> bin n-1
        h_neg[n - 1] += h_neg[n]
        h_pos[n - 1] += h_pos[n]
        return h_neg[:n], h_pos[:n], n_ign
    return h_neg[:K + 1], h_pos[:K + 1], n_ign  # keys are the bins
