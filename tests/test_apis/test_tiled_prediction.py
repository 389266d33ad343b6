"""Tiled prediction (mmcrack.apis.tiled_prediction): the tile grid, the
blending weights, and blends of stand-in predictors with known answers."""
import math

import numpy as np
import pytest

from mmcrack.apis.tiled_prediction import (
    TileGrid,
    predict_tiled,
    ramp_window,
    tile_starts,
)


def _weight_sum(grid: TileGrid) -> np.ndarray:
    total = np.zeros((grid.height, grid.width), np.float64)
    for (y0, y1, x0, x1), w in grid.tiles():
        assert w.dtype == np.float32 and w.shape == (y1 - y0, x1 - x0)
        assert w.min() > 0  # every covered pixel counts
        total[y0:y1, x0:x1] += w
    return total


def local_mean(img: np.ndarray, r: int) -> np.ndarray:
    """(2r+1)^2 box mean, reflect-padded at the array border: the same
    arithmetic at every pixel, so a pixel at least ``r`` from the border of a
    crop gets exactly the value it gets in the whole image."""
    pad = np.pad(img.astype(np.float64), r, mode='reflect')
    h, w = img.shape
    out = np.zeros((h, w), np.float64)
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            out += pad[dy:dy + h, dx:dx + w]
    return out / (2 * r + 1) ** 2


def smooth_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Values in [0, 1]: a slow wave plus noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:h, :w]
    base = 0.5 + 0.3 * np.sin(x / 37.0) * np.cos(y / 23.0)
    return np.clip(base + 0.1 * rng.standard_normal((h, w)), 0, 1)


def seam_jumps(out: np.ndarray, starts, ends):
    """Largest horizontal step |out[:, x] - out[:, x - 1]| at the columns
    where a tile starts or ends inside the image, and elsewhere."""
    step = np.abs(np.diff(out.astype(np.float64), axis=1))  # step[:, x-1]
    cols = sorted({s for s in starts if s > 0} |
                  {e for e in ends if e < out.shape[1]})
    at = np.zeros(step.shape[1], bool)
    at[[c - 1 for c in cols]] = True
    return step[:, at].max(), step[:, ~at].max()


# -- grid ----------------------------------------------------------------
@pytest.mark.parametrize('args, starts', [
    ((1000, 512, 64), [0, 448, 488]),
    ((1000, 512, 64, 32), [0, 448, 512]),
    ((700, 256, 32, 32), [0, 224, 448]),
    ((900, 256, 32, 32), [0, 224, 448, 672]),
    ((9, 8, 2), [0, 1]),
    ((8, 8, 7), [0]),  # fits: one tile
    ((5, 8, 2), [0]),  # smaller than a tile
    ((20, 8, 0), [0, 8, 12]),  # no overlap: abutting, last one shifted
    ((10, 3, 2), list(range(8))),  # step 1
])
def test_tile_starts_known(args, starts):
    assert tile_starts(*args) == starts


def test_tile_starts_cover_and_overlap():
    for length in range(1, 60):
        for tile in range(1, 20):
            for overlap in range(tile):
                for align in (1, 2, 4):
                    if length > tile and tile - overlap < align:
                        continue
                    s = tile_starts(length, tile, overlap, align)
                    ends = [min(x + tile, length) for x in s]
                    assert s[0] == 0 and ends[-1] == length
                    assert all(x % align == 0 for x in s)
                    assert all(b > a for a, b in zip(s, s[1:]))
                    # neighbours share >= overlap px (so no gaps either)
                    assert all(e - b >= overlap
                               for e, b in zip(ends, s[1:]))
                    assert min(e - x for x, e in zip(s, ends)) >= min(
                        length, tile - align + 1)


@pytest.mark.parametrize('args, match', [
    ((100, 16, 16), 'smaller than the tile'),  # tile = overlap
    ((100, 16, 20), 'smaller than the tile'),
    ((100, 0, 0), 'tile must be'),
    ((0, 16, 4), 'length must be'),
    ((100, 16, -1), 'overlap must be'),
    ((100, 16, 4.5), 'overlap must be'),
    ((100, 40, 20, 32), 'at least align'),
])
def test_tile_starts_errors(args, match):
    with pytest.raises(ValueError, match=match):
        tile_starts(*args)


def test_tile_equal_overlap_edge_case_fits_when_small():
    # a side that fits in one tile needs no step, whatever the overlap
    assert TileGrid(10, 12, 16, 15).boxes() == [(0, 10, 0, 12)]
    with pytest.raises(ValueError):
        TileGrid(40, 12, 16, 16)


# -- weights ---------------------------------------------------------------
def test_ramp_window_values():
    w = ramp_window(10, before=4, after=2)
    expected = np.ones(10)
    expected[:4] = np.sin(np.pi / 8 * (np.arange(4) + 0.5)) ** 2
    expected[-2:] = np.sin(np.pi / 4 * (np.arange(2)[::-1] + 0.5)) ** 2
    np.testing.assert_allclose(w, expected, atol=1e-15)
    assert w[0] == pytest.approx(math.sin(math.pi / 16) ** 2)  # ~0.038
    np.testing.assert_array_equal(ramp_window(5), np.ones(5))
    # neighbours' ramps over the same 6 px are complements
    a, b = ramp_window(16, after=6), ramp_window(16, before=6)
    np.testing.assert_allclose(a[-6:] + b[:6], 1.0, atol=1e-15)
    # both ramps longer than half the tile: they multiply, stay > 0
    w = ramp_window(6, before=5, after=5)
    assert w.min() > 0 and w.max() < 1
    np.testing.assert_allclose(w, w[::-1], atol=1e-15)


@pytest.mark.parametrize('h, w, tile, overlap, align', [
    (333, 517, 100, 17, 1),  # odd sizes
    (333, 517, 128, 32, 32),
    (50, 40, 64, 8, 1),  # smaller than a tile
    (50, 200, 64, 8, 1),  # one side smaller
    (31, 29, 8, 7, 1),  # overlap = tile - 1 (step 1)
    (64, 96, 32, 0, 1),  # no overlap
    (1, 1, 4, 1, 1),
    (97, 13, 16, 10, 2),  # overlap > tile / 2: 3 tiles share pixels
])
def test_weights_sum_to_one(h, w, tile, overlap, align):
    grid = TileGrid(h, w, tile, overlap, align)
    np.testing.assert_allclose(_weight_sum(grid), 1.0, atol=1e-6)
    assert len(grid.boxes()) == len(grid) == len(list(grid.tiles()))


def test_weights_fall_to_near_zero_at_inner_tile_borders():
    grid = TileGrid(300, 300, 128, 32)
    for (y0, y1, x0, x1), wt in grid.tiles():
        inner_left = x0 > 0
        edge = wt[(y1 - y0) // 2]  # a row through the tile's middle
        if inner_left:
            assert edge[0] < 0.01  # sin^2(pi / 128) ~ 6e-4, normalised
        else:
            assert edge[0] > 0.99  # image border: full weight


# -- blends ----------------------------------------------------------------
def test_small_image_is_predicted_whole_unchanged():
    img = smooth_image(40, 50)
    calls = []

    def predict(t):
        calls.append(t.shape)
        return (t * 0.7).astype(np.float32)

    out = predict_tiled(predict, img, tile=64, overlap=16)
    assert calls == [(40, 50)]
    np.testing.assert_array_equal(out, (img * 0.7).astype(np.float32))


@pytest.mark.parametrize('shape, tile, overlap',
                         [((333, 517), 100, 17), ((257, 130), 64, 0),
                          ((90, 400, 3), 64, 40)])
def test_pointwise_predictor_is_reproduced(shape, tile, overlap):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, shape, np.uint8)

    def predict(t):
        grey = t.mean(axis=2) if t.ndim == 3 else t
        return 1 / (1 + np.exp(-(grey - 128.0) / 30.0))

    seen = []
    out = predict_tiled(predict, img, tile, overlap,
                        progress=lambda k, n: seen.append((k, n)))
    np.testing.assert_allclose(out, predict(img), atol=5e-7, rtol=0)
    n = len(TileGrid(*shape[:2], tile, overlap))
    assert seen == [(k, n) for k in range(1, n + 1)]
    assert out.dtype == np.float32 and out.shape == shape[:2]
    assert 0 <= out.min() and out.max() <= 1


def test_local_filter_matches_whole_image_without_seams():
    """A translation-equivariant predictor with 3 px of context: blended
    tiles equal the whole-image map closely; abutting independent tiles
    do not."""
    h, w, tile, overlap, r = 300, 420, 96, 24, 3
    img = smooth_image(h, w)
    whole = local_mean(img, r)
    blended = predict_tiled(lambda t: local_mean(t, r), img, tile, overlap)
    naive = predict_tiled(lambda t: local_mean(t, r), img, tile, 0)
    inner = np.s_[r:-r, r:-r]  # the reflect border of the image itself
    err = np.abs(blended - whole)[inner].max()
    naive_err = np.abs(naive - whole)[inner].max()
    # only the 3 px next to an inner tile border are wrong in a tile, and
    # there it weighs <= sin^2(pi / 48 * 2.5) ~ 0.027 (measured 9.4e-4)
    assert err < 2e-3
    assert naive_err > 10 * err
    grid = TileGrid(h, w, tile, overlap)
    ends = [min(x + tile, w) for x in grid.xs]
    seam, elsewhere = seam_jumps(blended, grid.xs, ends)
    w_seam, w_elsewhere = seam_jumps(whole, grid.xs, ends)
    assert seam <= w_seam + 2e-3
    assert seam <= elsewhere
    naive_seam, naive_elsewhere = seam_jumps(
        naive, [0] + list(range(tile, w, tile)), [])
    assert naive_seam > 1.5 * naive_elsewhere  # the test can see seams


def test_per_tile_normalisation_leaves_no_jump():
    """Each tile rescales its own prediction (like a min-max normalised
    CAM): independent tiles jump at their borders, blended tiles change
    only gradually across the overlap."""
    h, w, tile, overlap = 128, 512, 128, 32
    y, x = np.mgrid[:h, :w]
    img = (x / w) ** 2 + 0.05 * np.sin(y / 9.0)  # smooth, rising

    def predict(t):
        return (t - t.min()) / (t.max() - t.min())

    blended = predict_tiled(predict, img, tile, overlap)
    naive = predict_tiled(predict, img, tile, 0)
    grid = TileGrid(h, w, tile, overlap)
    ends = [min(s + tile, w) for s in grid.xs]
    seam, elsewhere = seam_jumps(blended, grid.xs, ends)
    naive_seam, naive_elsewhere = seam_jumps(
        naive, list(range(0, w, tile)), [])
    assert naive_seam > 0.5 and naive_seam > 20 * naive_elsewhere
    # the border pixel of a tile weighs sin^2(pi / 128) ~ 6e-4: the step
    # there is the image's own step, not the tiles' offset
    assert seam < 0.02 and seam <= elsewhere
    assert np.abs(np.diff(blended, axis=1)).max() < 0.06


def test_predict_tiled_checks_shapes_and_out():
    img = np.zeros((100, 100), np.float32)
    with pytest.raises(ValueError, match='predict returned shape'):
        predict_tiled(lambda t: t[:-1], img, 64, 8)
    canvas = np.full((100, 100), 7, np.float32)
    out = predict_tiled(lambda t: t + 0.25, img, 64, 8, out=canvas)
    assert out is canvas
    np.testing.assert_allclose(canvas, 0.25, atol=1e-7)
    with pytest.raises(ValueError, match='out must be float32'):
        predict_tiled(lambda t: t, img, 64, 8, out=np.zeros((100, 100)))
