"""Thresholding branch: exactness against scikit-image, agreement rule."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
from skimage.filters import threshold_multiotsu

from mmcrack.pseudo_label import (
    bilateral_filter,
    multiotsu_thresholds_batched,
    patch_multiotsu_mask,
    rgb_to_gray,
    threshold_map,
)

DATASETS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), '..',
    'shared', 'datasets')
REAL_IMAGES = sorted(
    glob.glob(osp.join(DATASETS, 'CFD', 'images', '*', '*.jpg')) +
    glob.glob(osp.join(DATASETS, 'DeepCrack', 'images', '*', '*.jpg')))
needs_data = pytest.mark.skipif(not REAL_IMAGES,
                                reason='no images under shared/datasets')


def skimage_thresholds(window, nbins=256):
    """scikit-image's thresholds, NaN where it refuses the window."""
    try:
        return threshold_multiotsu(window, classes=3, nbins=nbins)
    except ValueError:
        return np.array([np.nan, np.nan])


def assert_same_thresholds(windows, nbins=256):
    ours = multiotsu_thresholds_batched(windows, nbins=nbins)
    ref = np.array([skimage_thresholds(w, nbins) for w in windows],
                   dtype=np.float64)
    same = (ours == ref) | (np.isnan(ours) & np.isnan(ref))
    bad = np.flatnonzero(~same.all(axis=1))
    assert len(bad) == 0, (f'{len(bad)}/{len(windows)} windows differ, '
                           f'first {bad[:5]}: {ours[bad[:5]]} vs '
                           f'{ref[bad[:5]]}')
    return ours


def normalise(windows):
    """Per-window min-max normalisation exactly as the published code."""
    lo = windows.min(axis=(1, 2), keepdims=True)
    hi = windows.max(axis=(1, 2), keepdims=True)
    return (windows - lo) / (hi - lo)


def reference_mask(gray, window=32, stride=8, nbins=256):
    """Per-window reference: published-code loop with skimage per window."""
    h, w = gray.shape
    ph, pw = (-h) % window, (-w) % window
    padded = np.pad(gray, ((0, ph), (0, pw)), mode='reflect')
    out = np.ones(padded.shape, bool)
    for y in range(0, padded.shape[0] - window + 1, stride):
        for x in range(0, padded.shape[1] - window + 1, stride):
            patch = padded[y:y + window, x:x + window]
            if patch.max() == patch.min():
                out[y:y + window, x:x + window] = False
                continue
            patch = (patch - patch.min()) / (patch.max() - patch.min())
            try:
                thr = threshold_multiotsu(patch, classes=3, nbins=nbins)[0]
            except ValueError:  # fewer than 3 values: no crack
                out[y:y + window, x:x + window] = False
                continue
            out[y:y + window, x:x + window] &= patch < thr
    return out[:h, :w]


def real_gray_crops(num, size, seed=0):
    rng = np.random.default_rng(seed)
    crops = []
    for path in rng.choice(REAL_IMAGES, size=num):
        img = cv2.imread(path)[:, :, ::-1]
        gray = bilateral_filter(img, d=int(rng.choice([2, 5])))
        y = rng.integers(0, gray.shape[0] - size + 1)
        x = rng.integers(0, gray.shape[1] - size + 1)
        crops.append(gray[y:y + size, x:x + size])
    return np.stack(crops)


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
# patch_multiotsu_mask: agreement rule, equality with the per-window loop
# ----------------------------------------------------------------------


def test_agreement_rule_hand_made():
    """16x16 image, 8 px windows at stride 4: 3 x 3 windows.

    A window with exactly three grey levels says "crack" for its darkest
    level (skimage's three-value case); with two levels it says nothing.
    Pixel (5, 5) is dark in all four windows covering it, each of which
    also sees the grey pixel (7, 7): crack. Pixel (10, 10) is crack for the
    window at (4, 4) but the window at (4, 8) sees only two levels and
    vetoes it.
    """
    img = np.full((16, 16), 200, np.uint8)
    img[5, 5] = img[10, 10] = 0
    img[7, 7] = 100

    def says(y, x):
        patch = img[y:y + 8, x:x + 8].astype(np.float64)
        patch = (patch - patch.min()) / (patch.max() - patch.min())
        try:
            return patch < threshold_multiotsu(patch, classes=3)[0]
        except ValueError:
            return np.zeros((8, 8), bool)

    assert says(4, 4)[6, 6]  # (10, 10) is crack for window (4, 4) ...
    assert not says(4, 8)[6, 2]  # ... but not for window (4, 8)
    expected = np.zeros((16, 16), bool)
    expected[5, 5] = True
    mask = patch_multiotsu_mask(img, window=8, stride=4)
    np.testing.assert_array_equal(mask, expected)


def test_matches_per_window_reference_synthetic():
    rng = np.random.default_rng(5)
    img = rng.normal(150, 20, (96, 128))
    img[40:44, :] -= 80  # a dark line
    img[:, 70:72] -= 60
    gray = np.clip(img, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(patch_multiotsu_mask(gray),
                                  reference_mask(gray))
    np.testing.assert_array_equal(
        patch_multiotsu_mask(gray, window=16, stride=4, nbins=64),
        reference_mask(gray, window=16, stride=4, nbins=64))


@needs_data
def test_matches_per_window_reference_real():
    crops = real_gray_crops(2, 96, seed=7)
    for gray in crops:
        np.testing.assert_array_equal(patch_multiotsu_mask(gray),
                                      reference_mask(gray))


@pytest.mark.parametrize('shape', [(333, 517), (20, 20), (1, 40), (31, 9)])
def test_odd_sizes(shape):
    rng = np.random.default_rng(6)
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    img = 120 + 40 * np.sin(xx / 7.0) + rng.normal(0, 15, shape)
    img[np.abs(yy - xx * 0.6 - 3) < 1.5] -= 70
    gray = np.clip(img, 0, 255).astype(np.uint8)
    mask = patch_multiotsu_mask(gray)
    assert mask.shape == shape and mask.dtype == bool
    np.testing.assert_array_equal(mask, reference_mask(gray))


def test_flat_and_two_valued_images():
    flat = np.full((40, 50), 90, np.uint8)
    assert not patch_multiotsu_mask(flat).any()
    two = flat.copy()
    two[10:12] = 10
    assert not patch_multiotsu_mask(two).any()
    np.testing.assert_array_equal(patch_multiotsu_mask(two),
                                  reference_mask(two))


def test_threshold_map_paper_and_published_settings():
    rng = np.random.default_rng(8)
    img = rng.normal(140, 25, (64, 96, 3))
    img[30:33, :, :] -= 90
    img = np.clip(img, 0, 255).astype(np.uint8)
    # paper: grey first, d=2
    gray = cv2.bilateralFilter(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), 2, 120,
                               120)
    np.testing.assert_array_equal(threshold_map(img), reference_mask(gray))
    # published code: colour bilateral d=5, then BGR2GRAY on RGB data
    gray = cv2.cvtColor(cv2.bilateralFilter(img, 5, 120, 120),
                        cv2.COLOR_BGR2GRAY)
    np.testing.assert_array_equal(
        threshold_map(img, d=5, filter_on='color', channel_order='bgr'),
        reference_mask(gray))


def test_bilateral_and_gray_helpers():
    rng = np.random.default_rng(9)
    img = rng.integers(0, 256, (20, 30, 3)).astype(np.uint8)
    out = bilateral_filter(img)
    assert out.shape == (20, 30) and out.dtype == np.uint8
    assert bilateral_filter(img, to_gray=False).shape == (20, 30, 3)
    flt = bilateral_filter(rgb_to_gray(img).astype(np.float32) / 255)
    assert flt.dtype == np.float32
    swapped = rgb_to_gray(img, 'bgr')
    np.testing.assert_array_equal(swapped,
                                  rgb_to_gray(img[:, :, ::-1].copy()))
    with pytest.raises(ValueError):
        rgb_to_gray(img, 'gbr')
    with pytest.raises(TypeError):
        bilateral_filter(img.astype(np.float64))


def test_deterministic_and_input_untouched():
    rng = np.random.default_rng(10)
    gray = rng.integers(0, 256, (70, 90)).astype(np.uint8)
    copy = gray.copy()
    a = patch_multiotsu_mask(gray)
    b = patch_multiotsu_mask(gray)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(gray, copy)


def test_bad_arguments():
    gray = np.zeros((40, 40), np.uint8)
    with pytest.raises(TypeError):
        patch_multiotsu_mask(gray.astype(np.float32))
    with pytest.raises(ValueError):
        patch_multiotsu_mask(gray, window=30, stride=8)
    with pytest.raises(ValueError):
        threshold_map(np.zeros((8, 8, 3), np.uint8), filter_on='both')


def test_independent_of_torch_threads():
    """The search runs on torch kernels: results must not depend on the
    number of intra-op threads."""
    import torch
    rng = np.random.default_rng(11)
    gray = np.clip(rng.normal(128, 30, (96, 96)), 0, 255).astype(np.uint8)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        single = patch_multiotsu_mask(gray)
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_array_equal(single, patch_multiotsu_mask(gray))
