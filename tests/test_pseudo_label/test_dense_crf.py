"""Dense CRF refinement of a crack-probability map (pydensecrf2)."""
import dataclasses
import sys

import numpy as np
import pytest

from mmcrack.pseudo_label.dense_crf import DenseCRFSettings, dense_crf


def square_scene(seed=0, noise=0.3):
    """A 64 x 80 image with a bright square and a noisy P(crack) map.

    The clean map is 0.7 inside the square and 0.3 outside; Gaussian noise
    (std ``noise``) clipped to [0, 1] flips many pixels of its argmax.
    """
    rng = np.random.default_rng(seed)
    square = np.zeros((64, 80), bool)
    square[16:44, 24:56] = True
    img = np.where(square, 200, 60).astype(np.uint8)[..., None].repeat(3, 2)
    clean = np.where(square, 0.7, 0.3)
    prob = np.clip(clean + rng.normal(0, noise, clean.shape), 0, 1)
    return square, img, prob.astype(np.float32)


def iou(a, b):
    a, b = a.astype(bool), b.astype(bool)
    return (a & b).sum() / (a | b).sum()


def test_settings_defaults_and_validation():
    s = DenseCRFSettings()
    assert dataclasses.asdict(s) == dict(
        gaussian_sxy=3.0, gaussian_compat=3.0, bilateral_sxy=80.0,
        bilateral_srgb=13.0, bilateral_compat=10.0, iterations=5,
        eps=1e-5)
    assert DenseCRFSettings(**dataclasses.asdict(s)) == s
    for bad in (dict(gaussian_sxy=0), dict(bilateral_srgb=-1),
                dict(bilateral_compat=-0.5), dict(iterations=-1),
                dict(iterations=2.5), dict(eps=0), dict(eps=0.5)):
        with pytest.raises(ValueError):
            DenseCRFSettings(**bad)


def test_zero_pairwise_weights_give_unary_argmax_exactly():
    rng = np.random.default_rng(1)
    # a grid of values that contains 0, 0.5 (tie -> background) and 1
    prob = (rng.integers(0, 1001, (48, 70)) / 1000).astype(np.float32)
    prob[0, :3] = [0.0, 0.5, 1.0]
    img = rng.integers(0, 256, (48, 70, 3), dtype=np.uint8)
    for iters in (0, 5):
        label, post = dense_crf(prob, img, gaussian_compat=0,
                                bilateral_compat=0, iterations=iters,
                                return_prob=True)
        assert label.dtype == np.uint8 and label.shape == (48, 70)
        np.testing.assert_array_equal(label, (prob > 0.5).astype(np.uint8))
        assert label[0, :3].tolist() == [0, 0, 1]
        # the posterior is the clipped input itself
        assert post.dtype == np.float32
        np.testing.assert_allclose(post, np.clip(prob, 1e-5, 1 - 1e-5),
                                   atol=1e-5)


def test_noisy_square_is_cleaned_up():
    square, img, prob = square_scene()
    unary_iou = iou(prob > 0.5, square)
    assert unary_iou < 0.5  # the noise is strong
    label, post = dense_crf(prob, img, return_prob=True)
    assert set(np.unique(label)) <= {0, 1}
    assert iou(label, square) > 0.95 > unary_iou + 0.4
    assert 0 <= post.min() and post.max() <= 1
    np.testing.assert_array_equal(label, (post > 0.5).astype(np.uint8))
    # the smoothness kernel alone helps, but less than with the image
    gauss = dense_crf(prob, img, bilateral_compat=0)
    assert unary_iou < iou(gauss, square) < iou(label, square)


def test_settings_object_and_overrides_agree_and_are_deterministic():
    _, img, prob = square_scene(seed=2)
    s = DenseCRFSettings(gaussian_sxy=2, bilateral_srgb=20, iterations=3)
    a, qa = dense_crf(prob, img, s, return_prob=True)
    b, qb = dense_crf(prob.copy(), img.copy(), return_prob=True,
                      gaussian_sxy=2, bilateral_srgb=20, iterations=3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(qa, qb)
    # float64 input and a non-contiguous image view give the same result
    wide = np.zeros((64, 80, 6), np.uint8)
    wide[..., ::2] = img
    c, qc = dense_crf(prob.astype(np.float64), wide[..., ::2], s,
                      return_prob=True)
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(qa, qc)
    # the parameters matter
    d = dense_crf(prob, img, s, iterations=0)
    assert not np.array_equal(a, d)
    with pytest.raises(TypeError):
        dense_crf(prob, img, s, sigma=3)


def test_bad_inputs_raise_clear_errors():
    _, img, prob = square_scene()
    with pytest.raises(ValueError, match='differ'):
        dense_crf(prob[:, :-1], img)
    with pytest.raises(ValueError, match=r'\(H, W, 3\)'):
        dense_crf(prob, img[..., :2])
    with pytest.raises(ValueError, match=r'\(H, W\)'):
        dense_crf(prob[None], img)
    with pytest.raises(TypeError, match='uint8'):
        dense_crf(prob, img.astype(np.float32))
    for bad in (1.5, -0.1, np.nan):
        p = prob.copy()
        p[3, 4] = bad
        with pytest.raises(ValueError, match=r'\[0, 1\]'):
            dense_crf(p, img)


def test_missing_package_names_it_and_make_install(monkeypatch):
    _, img, prob = square_scene()
    monkeypatch.setitem(sys.modules, 'pydensecrf', None)
    monkeypatch.setitem(sys.modules, 'pydensecrf.densecrf', None)
    with pytest.raises(ImportError, match='pydensecrf2.*make install'):
        dense_crf(prob, img)
