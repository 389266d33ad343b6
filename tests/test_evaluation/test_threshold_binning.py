"""The threshold binning engine (``functional._threshold_binning``): every
route of ``pr_counts`` against the literal threshold loop.

The engine takes one of several routes (see ``_bins_key8``):
uint8 maps go through a 256-entry table, float32 maps on a uniform grid
``k/n`` through ``floor(p * n)`` with an exact fix-up of products that
rounded onto an integer, anything else through the general bucket binning;
all of them feed one uint8 key per pixel to the 8-bit histograms when the
grid has at most 255 thresholds. These tests pin each route, with values
exactly on and next to every threshold, against ``oracle_counts``.
"""
import threading

import numpy as np
import pytest
from crack_oracle import oracle_counts

from mmcrack.evaluation.functional import (
    DEFAULT_THRESHOLDS,
    check_thresholds,
    pr_counts,
    threshold_bins,
)
from mmcrack.evaluation.functional import _threshold_binning as binning

GRIDS = {
    'default': None,
    'n10': 10,
    'n126': 126,
    'n255': 255,  # float32: keys floor(p * 255) in 0..255
    'n256': 256,  # 255 thresholds: the largest 8-bit grid (bins as keys)
    'nonuniform': [0.0, 0.1, 0.1001, 0.5, 0.999, 1.0],
    'random': np.sort(np.random.default_rng(7).random(37)),
}


def float32_neighbours(values, ulps=4):
    """Every float32 within ``ulps`` steps of each value (clipped to
    [0, 1]), plus 0, 0.25, 0.5, 0.75 and 1 (exact products)."""
    out = [0.0, 0.25, 0.5, 0.75, 1.0]
    for x in values:
        f = np.float32(x)
        lo = hi = f
        out.append(f)
        for _ in range(ulps):
            lo = np.nextafter(lo, np.float32(-1))
            hi = np.nextafter(hi, np.float32(2))
            out += [lo, hi]
    out = np.array(out, np.float32)
    return out[(out >= 0) & (out <= 1)]


def test_key8_path_is_taken_for_grids_up_to_255_thresholds():
    for grid, key8 in [(None, True), (10, True), (255, True), (256, True),
                       (257, False), (1000, False)]:
        b = binning.get_binner(check_thresholds(grid))
        assert b.key8 is key8, grid
    assert binning.get_binner(check_thresholds(256)).n8 is None
    assert binning.get_binner(DEFAULT_THRESHOLDS).n8 == 100  # floor(100p)


@pytest.mark.parametrize('grid', [1000, 'dense'])
def test_uint8_maps_use_value_keys_on_any_grid(grid):
    """uint8 maps key on the value itself (256 keys) whatever the grid,
    also when the float path needs wide keys."""
    rng = np.random.default_rng(2)
    if grid == 'dense':  # thresholds on, between and next to v / 255
        v255 = np.arange(256) / 255
        grid = np.unique(np.r_[v255[1:-1], v255[1:-1] + 1e-9,
                               rng.random(500)])
        grid = grid[(grid > 0) & (grid <= 1)]
    t = check_thresholds(grid)
    assert not binning.get_binner(t).key8
    v = rng.integers(0, 256, (41, 43)).astype(np.uint8)
    gt = rng.random(v.shape) < 0.3
    ignore = rng.random(v.shape) < 0.1
    counts, n_ign = pr_counts(v, gt, grid, ignore_mask=ignore,
                              return_ignored=True)
    np.testing.assert_array_equal(counts, oracle_counts(v, gt, t, ignore))
    assert n_ign == ignore.sum()


@pytest.mark.parametrize('grid', list(GRIDS))
def test_uint8_table_vs_float_vs_loop_all_256_values(grid):
    """Every uint8 value, as uint8 (table), as float64 v/255 (general path)
    and, where exact, as float32 -- all equal to the literal loop."""
    t = check_thresholds(GRIDS[grid])
    rng = np.random.default_rng(1)
    v = np.tile(np.arange(256, dtype=np.uint8), 8).reshape(32, 64)
    rng.shuffle(v.ravel())
    gt = rng.random(v.shape) < 0.4
    want = oracle_counts(v, gt, t)
    np.testing.assert_array_equal(pr_counts(v, gt, GRIDS[grid]), want)
    np.testing.assert_array_equal(pr_counts(v / 255.0, gt, GRIDS[grid]),
                                  want)
    # float32(v / 255) is not v / 255: compare with its own loop
    p32 = (v / 255.0).astype(np.float32)
    np.testing.assert_array_equal(pr_counts(p32, gt, GRIDS[grid]),
                                  oracle_counts(p32, gt, t))
    # the bins themselves
    np.testing.assert_array_equal(
        threshold_bins(v, GRIDS[grid]),
        (v.astype(np.float64)[..., None] / 255 >= t).sum(-1))


@pytest.mark.parametrize('grid', list(GRIDS))
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('frac_adversarial', [0.001, 0.05, 1.0])
def test_values_on_and_next_to_every_threshold(grid, dtype,
                                               frac_adversarial):
    """float32 neighbours (+-4 ulps) of every threshold, mixed into random
    maps in small and large proportions: the float32 fix-up runs per pixel
    (few integral products) or for the whole chunk (many)."""
    t = check_thresholds(GRIDS[grid])
    rng = np.random.default_rng(hash((grid, frac_adversarial)) % 2**32)
    near = float32_neighbours(t)
    p = rng.random((97, 103)).astype(dtype)
    sel = rng.random(p.shape) < frac_adversarial
    p[sel] = rng.choice(near, int(sel.sum())).astype(dtype)
    if dtype == np.float64:  # also the exact doubles of the thresholds
        sel = rng.random(p.shape) < frac_adversarial / 2
        p[sel] = rng.choice(t, int(sel.sum()))
    gt = rng.random(p.shape) < 0.3
    np.testing.assert_array_equal(pr_counts(p, gt, GRIDS[grid]),
                                  oracle_counts(p, gt, t))
    np.testing.assert_array_equal(
        threshold_bins(p, GRIDS[grid]),
        (p.astype(np.float64)[..., None] >= t).sum(-1))


def test_float32_products_that_round_onto_the_threshold():
    """The float32 values just below k/100 whose float32 product with 100
    rounds up to k (float32(0.01) * 100 == 1.0 in float32) -- they are in
    bin k - 1, not k."""
    near = float32_neighbours(DEFAULT_THRESHOLDS, ulps=2)
    q32 = near * np.float32(100)
    exact = near.astype(np.float64) * 100
    tricky = near[(np.floor(q32) != np.floor(exact))]
    assert len(tricky) > 20  # e.g. float32(0.01), float32(0.29)
    gt = np.ones((1, len(tricky)), bool)
    p = tricky.reshape(1, -1)
    np.testing.assert_array_equal(
        pr_counts(p, gt), oracle_counts(p, gt, DEFAULT_THRESHOLDS))


@pytest.mark.parametrize('gt_dtype', [
    bool, np.uint8, np.int8, np.int16, np.uint16, np.int32, np.int64,
    np.uint64, '>i8', '>u2'
])
def test_gt_dtypes(gt_dtype):
    rng = np.random.default_rng(4)
    p = rng.random((33, 35)).astype(np.float32)
    g = rng.random(p.shape) < 0.3
    want = oracle_counts(p, g, DEFAULT_THRESHOLDS)
    gt = g.astype(gt_dtype)
    np.testing.assert_array_equal(pr_counts(p, gt), want)
    # non-contiguous gt and prob (a transposed view)
    np.testing.assert_array_equal(pr_counts(p.T, gt.T),
                                  oracle_counts(p.T, g.T,
                                                DEFAULT_THRESHOLDS))
    if np.dtype(gt_dtype) != np.bool_:
        # with ignore_index (255 does not fit int8: use it where it fits)
        if np.iinfo(np.dtype(gt_dtype)).max >= 255:
            ign = rng.random(p.shape) < 0.1
            g255 = np.where(ign, 255, g).astype(gt_dtype)
            counts, n_ign = pr_counts(p, g255, ignore_index=255,
                                      return_ignored=True)
            np.testing.assert_array_equal(
                counts, oracle_counts(p, g, DEFAULT_THRESHOLDS, ign))
            assert n_ign == ign.sum()


@pytest.mark.parametrize('bad', [2, 255, 256, 257, -1, -255, -256, 2**40,
                                 2**56 + 1, -2**63])
def test_gt_values_other_than_0_1_raise_even_if_0_1_mod_256(bad):
    """The 0/1 check reads every bit: 256 or 2**56 + 1 are not 0 or 1
    although their low byte is."""
    p = np.full((3, 4), 0.5, np.float32)
    gt = np.zeros((3, 4), np.int64)
    gt[1, 2] = bad
    with pytest.raises(ValueError, match=r'img\.png: ground truth has '
                       rf'values \[{bad}\]'):
        pr_counts(p, gt, name='img.png')
    if bad != 255:
        with pytest.raises(ValueError, match='ground truth has values'):
            pr_counts(p, gt, ignore_index=255)
    # ... unless an explicit ignore mask covers the pixel
    mask = np.zeros(gt.shape, bool)
    mask[1, 2] = True
    counts = pr_counts(p, gt, ignore_mask=mask)
    np.testing.assert_array_equal(
        counts, oracle_counts(p, gt == 1, DEFAULT_THRESHOLDS, mask))


@pytest.mark.parametrize('chunk', [1, 7, 64, 1000])
@pytest.mark.parametrize('dtype', [np.uint8, np.float32, np.float64])
def test_chunks_and_spread_on_near_constant_maps(monkeypatch, chunk, dtype):
    """Small chunks (scratch buffers and histograms per chunk), and maps
    that are almost one value (every sub-bin of the spread histogram)."""
    monkeypatch.setattr(binning, 'KEY8_CHUNK', chunk)
    rng = np.random.default_rng(chunk)
    shape = (53, 41)
    p = np.zeros(shape)
    few = rng.random(shape) < 0.03
    p[few] = rng.random(int(few.sum()))
    p[0, :5] = [1.0, 0.5, 0.29, 0.01, 0.99]
    p = (np.round(p * 255).astype(np.uint8) if dtype == np.uint8 else
         p.astype(dtype))
    gt = rng.random(shape) < 0.2
    ignore = rng.random(shape) < 0.05
    for g, ign, kw in [(gt, None, {}), (gt.astype(np.int64), ignore, {}),
                       (np.where(ignore, 255, gt).astype(np.int64), ignore,
                        dict(ignore_index=255))]:
        mask = ign if 'ignore_index' not in kw else None
        counts, n_ign = pr_counts(p, g, ignore_mask=mask,
                                  return_ignored=True, **kw)
        np.testing.assert_array_equal(
            counts, oracle_counts(p, gt, DEFAULT_THRESHOLDS, ign))
        assert n_ign == (0 if ign is None else ign.sum())


def test_scratch_buffers_are_per_thread_and_reused_safely():
    """Alternating sizes (buffers grow, later calls use a prefix) and
    concurrent threads (buffers are thread-local) give the loop's counts."""
    rng = np.random.default_rng(21)
    cases = []
    for shape in [(300, 200), (5, 7), (1, 1), (120, 90), (300, 200)]:
        p = rng.random(shape).astype(np.float32)
        gt = rng.random(shape) < 0.3
        cases.append((p, gt, oracle_counts(p, gt, DEFAULT_THRESHOLDS)))
    for p, gt, want in cases:
        np.testing.assert_array_equal(pr_counts(p, gt), want)
    errors = []

    def work(order):
        try:
            for _ in range(5):
                for i in order:
                    p, gt, want = cases[i]
                    np.testing.assert_array_equal(pr_counts(p, gt), want)
        except Exception as e:  # noqa: BLE001  (re-raised below)
            errors.append(e)

    threads = [
        threading.Thread(target=work, args=(o, ))
        for o in ([0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3])
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[0]


def test_three_dimensional_and_strided_inputs():
    rng = np.random.default_rng(8)
    p = rng.random((4, 30, 50)).astype(np.float32)[:, ::2, 1::3]
    gt = (rng.random((4, 30, 50)) < 0.3)[:, ::2, 1::3]
    np.testing.assert_array_equal(pr_counts(p, gt),
                                  oracle_counts(p, gt, DEFAULT_THRESHOLDS))


@pytest.mark.parametrize('gt_dtype', [np.int64, np.int32, np.uint16])
@pytest.mark.parametrize('first_other', [0, 3, 500, 1072])
def test_wide_mask_switches_route_at_the_first_value_other_than_0_1(
        monkeypatch, gt_dtype, first_other):
    """Wide integer masks are checked block by block while copied; from the
    first block with an ignore_index (or bad) value on, the general route
    counts -- earlier chunks (only 0/1) keep their counts."""
    monkeypatch.setattr(binning, 'KEY8_CHUNK', 100)
    monkeypatch.setattr(binning, 'GT_BLOCK', 7)
    rng = np.random.default_rng(first_other)
    shape = (37, 29)  # 1073 pixels: 11 chunks of 100
    p = rng.random(shape).astype(np.float32)
    g = rng.random(shape) < 0.3
    ign = np.zeros(shape, bool)
    ign.flat[first_other:] = rng.random(ign.size - first_other) < 0.2
    ign.flat[first_other] = True
    gt = np.where(ign, 255, g).astype(gt_dtype)
    counts, n_ign = pr_counts(p, gt, ignore_index=255, return_ignored=True)
    np.testing.assert_array_equal(
        counts, oracle_counts(p, g, DEFAULT_THRESHOLDS, ign))
    assert n_ign == ign.sum()
    # a bad value late in the mask still raises
    bad = gt.copy()
    bad.flat[first_other] = 2
    with pytest.raises(ValueError, match=r'values \[2\]'):
        pr_counts(p, bad, ignore_index=255)
    # an ignore mask without any True pixel leaves the fast route on
    np.testing.assert_array_equal(
        pr_counts(p, g.astype(gt_dtype), ignore_mask=np.zeros(shape, bool)),
        oracle_counts(p, g, DEFAULT_THRESHOLDS))


@pytest.mark.parametrize('shape', [(40, 7), (3, 100), (1000, )])
def test_histogram_chunking_and_fallback(monkeypatch, shape):
    """Chunked cv2.calcHist (exact float32 counts need < 2**24 pixels per
    call) and the np.bincount fallback give the loop's counts: on the 8-bit
    key path (99 thresholds) and on the wide-key (key, class) histogram
    (999 thresholds: rows of 7 chunked, rows of 100 or 1000 > 50 pixels
    through np.bincount)."""
    monkeypatch.setattr(binning, 'CALC_HIST_MAX_PIXELS', 50)
    rng = np.random.default_rng(9)
    prob = rng.random(shape).astype(np.float32)
    gt = rng.random(shape) < 0.4
    ignore = rng.random(shape) < 0.1
    for grid in (None, 1000):
        np.testing.assert_array_equal(
            pr_counts(prob, gt, grid, ignore_mask=ignore),
            oracle_counts(prob, gt, check_thresholds(grid), ignore))


def test_dense_random_grid_multi_fix_and_bincount_path():
    """33000 random thresholds: several thresholds per power-of-two bucket
    (more than one correction step) and > 65536 histogram bins."""
    rng = np.random.default_rng(13)
    t = np.unique(rng.random(33000))
    t = np.sort(np.r_[t[:-3], t[100] + 1e-12, t[100] + 2e-12])
    t = check_thresholds(t)
    assert binning.get_binner(t).n_fix >= 2
    prob = rng.random((5, 7))
    prob.flat[:6] = t[[0, 100, 101, 102, -1, 5000]]
    gt = rng.random((5, 7)) < 0.5
    for p in (prob, prob.astype(np.float32)):
        np.testing.assert_array_equal(pr_counts(p, gt, t),
                                      oracle_counts(p, gt, t))


@pytest.mark.parametrize('frac_on_grid', [0.0, 0.01, 0.5, 1.0])
def test_float32_grid_path_few_or_many_integral_products(frac_on_grid):
    """float32 maps with few on-grid values (per-pixel float64 fix-up) and
    many (whole-map float64 product) -- including the float32 values just
    below k/100 whose float32 product rounds up to k."""
    rng = np.random.default_rng(17)
    shape = (61, 67)
    prob = rng.random(shape).astype(np.float32)
    near = []
    for x in DEFAULT_THRESHOLDS:
        f = np.float32(x)
        near += [np.nextafter(f, np.float32(-1)), f,
                 np.nextafter(f, np.float32(2))]
    near += [0.0, 1.0]
    sel = rng.random(shape) < frac_on_grid
    prob[sel] = rng.choice(np.array(near, np.float32), size=int(sel.sum()))
    gt = rng.random(shape) < 0.3
    np.testing.assert_array_equal(
        pr_counts(prob, gt), oracle_counts(prob, gt, DEFAULT_THRESHOLDS))
    # n = 1000 (int32 keys) too
    t = check_thresholds(1000)
    np.testing.assert_array_equal(pr_counts(prob, gt, 1000),
                                  oracle_counts(prob, gt, t))


def test_threshold_counts_on_checked_inputs():
    """The engine's entry point: (counts, n_ignored) for inputs that
    ``pr_counts`` has validated, on both key widths."""
    rng = np.random.default_rng(31)
    p = rng.random((23, 19)).astype(np.float32)
    g = rng.random(p.shape) < 0.3
    ign = rng.random(p.shape) < 0.1
    gt = np.where(ign, 255, g).astype(np.int64)
    for grid in (None, 1000):
        t = check_thresholds(grid)
        counts, n_ign = binning.threshold_counts(t, p, gt, ignore_index=255)
        assert counts.dtype == np.int64 and counts.shape == (len(t), 3)
        np.testing.assert_array_equal(counts, oracle_counts(p, g, t, ign))
        assert n_ign == ign.sum()
        counts, n_ign = binning.threshold_counts(t, p, g, ignore_mask=ign)
        np.testing.assert_array_equal(counts, oracle_counts(p, g, t, ign))
        assert n_ign == ign.sum()
    with pytest.raises(ValueError, match=r'^a\.png: ground truth has'):
        binning.threshold_counts(DEFAULT_THRESHOLDS, p, gt, where='a.png: ')


def test_binner_is_cached_by_grid_value():
    equal_grid = np.array(DEFAULT_THRESHOLDS.tolist())
    assert equal_grid is not DEFAULT_THRESHOLDS
    b = binning.get_binner(DEFAULT_THRESHOLDS)
    assert binning.get_binner(equal_grid) is b
    assert binning.get_binner(check_thresholds(10)) is not b
    assert b.K == 99 and b.t.tolist() == DEFAULT_THRESHOLDS.tolist()


def test_spread_pattern_grows_and_keeps_its_values():
    """(i mod SPREAD) * 512 as uint16, read-only, for any length; a longer
    request replaces the shared buffer, earlier slices stay valid."""
    short = binning._spread_pattern(5)
    long = binning._spread_pattern(3000)
    again = binning._spread_pattern(17)
    for m, pat in ((5, short), (3000, long), (17, again)):
        assert pat.dtype == np.uint16 and not pat.flags.writeable
        assert pat.tolist() == [(i % binning.SPREAD) * 512 for i in range(m)]
