"""Thresholding branch: agreement rule, equality with skimage per window."""

import cv2
import numpy as np
import pytest
from conftest import needs_real_images, real_gray_crops
from skimage.filters import threshold_multiotsu, threshold_otsu

import mmcrack.pseudo_label.multiotsu as multiotsu
import mmcrack.pseudo_label.thresholding as thresholding
from mmcrack.pseudo_label import (
    bilateral_filter,
    patch_multiotsu_mask,
    rgb_to_gray,
    threshold_map,
)

needs_data = needs_real_images


def window_says(patch, nbins=256, classes=3):
    """What one normalised window says, with skimage: crack = its dark
    class (3 classes: strictly below the lower threshold; 2 classes: not
    skimage's foreground ``patch > threshold``)."""
    if classes == 2:
        return patch <= threshold_otsu(patch, nbins=nbins)
    try:
        return patch < threshold_multiotsu(patch, classes=3, nbins=nbins)[0]
    except ValueError:  # fewer than 3 values: no crack
        return np.zeros(patch.shape, bool)


def reference_mask(gray, window=32, stride=8, nbins=256, classes=3):
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
            out[y:y + window, x:x + window] &= window_says(patch, nbins,
                                                           classes)
    return out[:h, :w]


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


def synthetic_gray(seed=5, shape=(96, 128)):
    rng = np.random.default_rng(seed)
    img = rng.normal(150, 20, shape)
    img[40:44, :] -= 80  # a dark line
    img[:, 70:72] -= 60
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.mark.parametrize('classes', [3, 2])
def test_matches_per_window_reference_synthetic(classes):
    gray = synthetic_gray()
    np.testing.assert_array_equal(
        patch_multiotsu_mask(gray, classes=classes),
        reference_mask(gray, classes=classes))
    for window, stride, nbins in ((16, 4, 64), (16, 8, 2), (24, 8, 100)):
        np.testing.assert_array_equal(
            patch_multiotsu_mask(gray, window, stride, nbins, classes),
            reference_mask(gray, window, stride, nbins, classes))


@needs_data
@pytest.mark.parametrize('classes', [3, 2])
def test_matches_per_window_reference_real(classes):
    crops = real_gray_crops(2, 96, seed=7)
    for gray in crops:
        np.testing.assert_array_equal(
            patch_multiotsu_mask(gray, classes=classes),
            reference_mask(gray, classes=classes))


@pytest.mark.parametrize('shape', [(333, 517), (20, 20), (1, 40), (31, 9)])
def test_odd_sizes(shape):
    rng = np.random.default_rng(6)
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    img = 120 + 40 * np.sin(xx / 7.0) + rng.normal(0, 15, shape)
    img[np.abs(yy - xx * 0.6 - 3) < 1.5] -= 70
    gray = np.clip(img, 0, 255).astype(np.uint8)
    for classes in (3, 2):
        mask = patch_multiotsu_mask(gray, classes=classes)
        assert mask.shape == shape and mask.dtype == bool
        np.testing.assert_array_equal(mask,
                                      reference_mask(gray, classes=classes))


def test_flat_and_two_valued_images():
    flat = np.full((40, 50), 90, np.uint8)
    two = flat.copy()
    two[10:12] = 10
    for classes in (3, 2):
        # skimage's threshold_otsu returns the flat window's value; the
        # window says "no crack" all the same
        assert not patch_multiotsu_mask(flat, classes=classes).any()
        np.testing.assert_array_equal(
            patch_multiotsu_mask(two, classes=classes),
            reference_mask(two, classes=classes))
    assert not patch_multiotsu_mask(two).any()
    # 2 classes: every window covering rows 10-11 sees both values and says
    # "crack" for the darker one
    np.testing.assert_array_equal(patch_multiotsu_mask(two, classes=2),
                                  two == 10)


def test_two_class_rule_includes_the_threshold():
    """A pixel exactly at the Otsu threshold is crack (``<=``).

    One 8x8 window, nbins=64, grey levels 0, 1 and 128: the normalised
    level 1 / 128 is the centre of bin 0, which holds levels 0 and 1, so the
    threshold is 1 / 128 itself.
    """
    gray = np.full((8, 8), 128, np.uint8)
    gray[:3] = 0
    gray[3, :4] = 1
    patch = gray / 128.0
    thr = threshold_otsu(patch, nbins=64)
    assert thr == 1 / 128 and (patch == thr).sum() == 4
    mask = patch_multiotsu_mask(gray, window=8, stride=8, nbins=64,
                                classes=2)
    np.testing.assert_array_equal(mask, gray <= 1)
    np.testing.assert_array_equal(mask, patch <= thr)
    # 3 classes: two occupied bins, skimage refuses the window: no crack
    with pytest.raises(ValueError):
        threshold_multiotsu(patch, classes=3, nbins=64)
    assert not patch_multiotsu_mask(gray, window=8, stride=8,
                                    nbins=64).any()


def test_classes_3_is_the_default_and_unchanged():
    gray = synthetic_gray(seed=12)
    default = patch_multiotsu_mask(gray)
    np.testing.assert_array_equal(default,
                                  patch_multiotsu_mask(gray, classes=3))
    np.testing.assert_array_equal(default, reference_mask(gray))
    two = patch_multiotsu_mask(gray, classes=2)
    assert (two != default).any()  # the option changes the mask
    # the 2-class windows agree with skimage's threshold_otsu
    np.testing.assert_array_equal(two, reference_mask(gray, classes=2))


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
    # 2-class Otsu through the settings dict, as the generator passes it
    settings = dict(d=5, filter_on='color', channel_order='bgr', classes=2)
    np.testing.assert_array_equal(threshold_map(img, **settings),
                                  reference_mask(gray, classes=2))


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
    for classes in (1, 4, 0, True, '3', None):
        with pytest.raises(ValueError, match='classes must be 2'):
            patch_multiotsu_mask(gray, classes=classes)
        with pytest.raises(ValueError, match='classes must be 2'):
            threshold_map(np.zeros((8, 8, 3), np.uint8), classes=classes)


def test_public_names_stay_importable():
    """The batched (multi-)Otsu moved to multiotsu.py; the old import
    paths re-export it."""
    import mmcrack.pseudo_label as pseudo_label
    for name in ('bilateral_filter', 'rgb_to_gray', 'patch_multiotsu_mask',
                 'threshold_map', 'multiotsu_thresholds_batched',
                 'otsu_thresholds_batched'):
        assert name in thresholding.__all__ and name in pseudo_label.__all__
        assert getattr(pseudo_label, name) is getattr(thresholding, name)
    for name in ('multiotsu_thresholds_batched', 'otsu_thresholds_batched'):
        assert getattr(thresholding, name) is getattr(multiotsu, name)


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
