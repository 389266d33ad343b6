"""Batched Otsu / 3-class multi-Otsu: bit-exact against scikit-image."""

import numpy as np
import pytest
from conftest import needs_real_images, real_gray_crops
from skimage.filters import threshold_multiotsu, threshold_otsu

from mmcrack.pseudo_label import (
    multiotsu_thresholds_batched,
    otsu_thresholds_batched,
)

needs_data = needs_real_images


def skimage_thresholds(window, nbins=256):
    """scikit-image's 3-class thresholds, NaN where it refuses the window."""
    try:
        return threshold_multiotsu(window, classes=3, nbins=nbins)
    except ValueError:
        return np.array([np.nan, np.nan])


def assert_same(ours, ref, windows):
    same = (ours == ref) | (np.isnan(ours) & np.isnan(ref))
    bad = np.flatnonzero(~same.reshape(len(windows), -1).all(axis=1))
    assert len(bad) == 0, (f'{len(bad)}/{len(windows)} windows differ, '
                           f'first {bad[:5]}: {ours[bad[:5]]} vs '
                           f'{ref[bad[:5]]}')


def assert_same_thresholds(windows, nbins=256):
    ours = multiotsu_thresholds_batched(windows, nbins=nbins)
    ref = np.array([skimage_thresholds(w, nbins) for w in windows],
                   dtype=np.float64).reshape(len(windows), 2)
    assert_same(ours, ref, windows)
    return ours


def assert_same_otsu(windows, nbins=256):
    ours = otsu_thresholds_batched(windows, nbins=nbins)
    assert ours.shape == (len(windows), ) and ours.dtype == np.float64
    ref = np.array([threshold_otsu(w, nbins=nbins) for w in windows],
                   dtype=np.float64)
    assert_same(ours, ref, windows)
    return ours


def normalise(windows):
    """Per-window min-max normalisation exactly as the published code."""
    lo = windows.min(axis=(1, 2), keepdims=True)
    hi = windows.max(axis=(1, 2), keepdims=True)
    return (windows - lo) / (hi - lo)


def random_windows(seed):
    """Float and integer windows: many distinct values, few (ties), two."""
    rng = np.random.default_rng(seed)
    span = rng.integers(3, 256, (200, 1, 1))
    raw = rng.integers(0, span, (200, 32, 32)).astype(np.uint8)
    return [
        rng.random((300, 32, 32)),  # 1024 distinct values
        rng.normal(size=(100, 17, 23)) ** 3,  # odd size, heavy tails
        rng.random((100, 32, 32)).astype(np.float32),
        normalise(raw),  # the pipeline's case
        rng.integers(0, 256, (150, 32, 32)).astype(np.uint8),
        rng.integers(-50, 50, (100, 9, 11)),
        rng.integers(0, 6, (150, 8, 8)).astype(np.uint8),  # many ties
        rng.integers(0, 3, (300, 4, 4)).astype(np.int16),
        (rng.integers(0, 4, (200, 6, 6)) / 3).astype(np.float32),
        rng.integers(0, 2, (200, 5, 5)) * 0.7 - 0.2,  # two values
    ]


# ----------------------------------------------------------------------
# multiotsu_thresholds_batched == skimage.filters.threshold_multiotsu
# ----------------------------------------------------------------------


def test_random_float_windows():
    rng = np.random.default_rng(0)
    windows = [
        rng.random((300, 32, 32)),  # 1024 distinct values
        rng.normal(size=(100, 17, 23)) ** 3,  # odd size, heavy tails
        rng.random((100, 32, 32)).astype(np.float32),
    ]
    for w in windows:
        assert_same_thresholds(w)


def test_normalised_uint8_windows():
    """The pipeline's case: uint8 windows min-max normalised to float."""
    rng = np.random.default_rng(1)
    span = rng.integers(3, 256, (400, 1, 1))
    raw = rng.integers(0, span, (400, 32, 32)).astype(np.uint8)
    # few distinct values: many empty bins between occupied ones
    sparse = (rng.integers(0, 5, (200, 32, 32)) * 60).astype(np.uint8)
    for w in (raw, sparse):
        keep = w.max(axis=(1, 2)) > w.min(axis=(1, 2))
        assert_same_thresholds(normalise(w[keep]))


def test_integer_windows():
    rng = np.random.default_rng(2)
    assert_same_thresholds(rng.integers(0, 256, (150, 32, 32)).astype(
        np.uint8))
    assert_same_thresholds(rng.integers(-50, 50, (100, 9, 11)))
    assert_same_thresholds(rng.integers(0, 6, (150, 8, 8)).astype(np.uint8))


@needs_data
def test_real_crops():
    crops = real_gray_crops(400, 32)
    keep = crops.max(axis=(1, 2)) > crops.min(axis=(1, 2))
    assert_same_thresholds(normalise(crops[keep]))
    assert_same_thresholds(crops)  # raw uint8: skimage's integer path


def test_degenerate_windows_give_nan_not_errors():
    flat = np.full((5, 32, 32), 0.25)
    two = np.zeros((5, 32, 32))
    two[:, :7] = 1.0
    three = np.zeros((5, 32, 32), np.uint8)
    three[:, :5] = 7
    three[:, 20:] = 200
    ours = multiotsu_thresholds_batched(np.concatenate([flat, two]))
    assert np.isnan(ours).all()
    for w in (flat[0], two[0]):
        with pytest.raises(ValueError):
            threshold_multiotsu(w, classes=3)
    # exactly three values: skimage's special case (no search)
    assert_same_thresholds(three)
    assert_same_thresholds(three.astype(np.float64) / 200)
    # a flat window next to regular ones does not disturb them
    rng = np.random.default_rng(3)
    mixed = np.concatenate([flat, rng.random((5, 32, 32))])
    assert_same_thresholds(mixed)
    assert multiotsu_thresholds_batched(np.zeros((0, 4, 4))).shape == (0, 2)


def test_nbins_option():
    rng = np.random.default_rng(4)
    w = normalise(rng.integers(0, 256, (100, 32, 32)).astype(np.uint8))
    assert_same_thresholds(w, nbins=64)
    assert_same_thresholds(w, nbins=300)


# ----------------------------------------------------------------------
# otsu_thresholds_batched == skimage.filters.threshold_otsu
# ----------------------------------------------------------------------


@pytest.mark.parametrize('nbins', [256, 2, 3, 64, 1000])
def test_otsu_random_windows(nbins):
    for windows in random_windows(seed=nbins):
        assert_same_otsu(windows, nbins)


@needs_data
def test_otsu_real_crops():
    crops = real_gray_crops(300, 32, seed=1)
    keep = crops.max(axis=(1, 2)) > crops.min(axis=(1, 2))
    assert_same_otsu(normalise(crops[keep]))
    assert_same_otsu(normalise(crops[keep]), nbins=64)
    assert_same_otsu(crops)


def test_otsu_ties_take_the_first_maximum():
    # the empty bin 2 continues bin 1's class: bins 1 and 2 tie, 1 wins
    run = np.array([[0, 1, 3, 4]], np.uint8)
    # symmetric histogram: the thresholds 0 and 2 tie, 0 wins
    mirror = np.array([[0, 0, 2, 4, 4]], np.uint8)
    # two float values: every bin between them ties, bin 0 wins
    two = np.array([[0.0, 1.0, 1.0, 0.0]])
    for windows, expected in ((run, 1), (mirror, 0), (two, 1 / 512)):
        assert assert_same_otsu(windows)[0] == expected
    assert assert_same_otsu(two, nbins=2)[0] == 0.25


def test_otsu_flat_and_two_valued_windows():
    flat = np.stack([np.full((4, 4), v) for v in (0.3, -2.0, 7.0)])
    flat_int = np.full((3, 4, 4), 7, np.int16)
    for windows in (flat, flat_int):
        # scikit-image returns the value of a flat window
        np.testing.assert_array_equal(assert_same_otsu(windows),
                                      windows[:, 0, 0])
    two = np.zeros((4, 6, 6), np.uint8)
    two[:, :2] = np.array([1, 50, 200, 255], np.uint8)[:, None, None]
    # integer histogram: the threshold is the lower value
    np.testing.assert_array_equal(assert_same_otsu(two), 0)
    assert_same_otsu(two / 255.0)
    rng = np.random.default_rng(7)
    assert_same_otsu(np.concatenate([flat, rng.random((5, 4, 4))]))
    assert otsu_thresholds_batched(np.zeros((0, 4, 4))).shape == (0, )


def test_otsu_single_bin_is_refused_like_skimage():
    windows = np.array([[[0.0, 1.0]], [[0.5, 0.5]]])
    with pytest.raises(ValueError):
        threshold_otsu(windows[0], nbins=1)
    ours = otsu_thresholds_batched(windows, nbins=1)
    assert np.isnan(ours[0]) and ours[1] == 0.5


def test_bad_dtype():
    with pytest.raises(TypeError):
        multiotsu_thresholds_batched(np.zeros((2, 4, 4), bool))
    with pytest.raises(TypeError):
        otsu_thresholds_batched(np.zeros((2, 4, 4), complex))
