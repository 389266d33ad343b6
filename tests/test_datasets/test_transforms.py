"""Noise and hue transforms of the patch classifier (paper step 1)."""
import numpy as np
import pytest

import mmcrack  # noqa: F401
from mmcrack.datasets.transforms import (
    GaussianNoise,
    MultiplicativeNoise,
    RandomHue,
    gaussian_noise,
    multiplicative_noise,
    shift_hue,
)


def test_gaussian_noise_statistics():
    img = np.full((200, 200, 3), 128, np.uint8)
    out = gaussian_noise(img, 2.55, np.random.default_rng(0))
    diff = out.astype(float) - 128
    assert abs(diff.mean()) < 0.05 and abs(diff.std() - 2.55) < 0.1
    t = GaussianNoise(max_sigma=2.55, seed=0)
    sigmas = [np.std(t(dict(img=img.copy()))['img'].astype(float) - 128)
              for _ in range(30)]
    assert max(sigmas) <= 2.6 and min(sigmas) >= 0.0


def test_multiplicative_noise_one_factor_per_image():
    img = np.random.default_rng(0).integers(50, 150, (20, 20, 3), np.uint8)
    np.testing.assert_array_equal(multiplicative_noise(img, 1.2),
                                  np.clip(np.rint(img * 1.2), 0, 255))
    t = MultiplicativeNoise(seed=3)
    out = t(dict(img=img.copy()))['img'].astype(float)
    ratio = out / img
    assert 0.75 - 0.02 <= ratio.min() and ratio.max() <= 1.25 + 0.02
    assert ratio.std() < 0.01  # one factor for the whole image


def test_exactly_one_noise_each_half_the_time():
    """The config's RandomChoice picks Gaussian or multiplicative noise."""
    from conftest import REPO
    from mmengine.config import Config

    from mmcrack.registry import TRANSFORMS
    cfg = Config.fromfile(
        f'{REPO}/configs/_base_/datasets/crack_patch_synthetic.py')
    choice = [t for t in cfg.train_pipeline if t['type'] == 'RandomChoice']
    assert len(choice) == 1
    kinds = [opt[0]['type'] for opt in choice[0]['transforms']]
    assert kinds == ['GaussianNoise', 'MultiplicativeNoise']
    t = TRANSFORMS.build(choice[0])
    assert t.prob is None or np.allclose(t.prob, 0.5) or t.prob == [0.5, 0.5]


def test_shift_hue():
    bgr = np.zeros((1, 3, 3), np.uint8)
    bgr[0, 0] = (0, 0, 255)  # red
    bgr[0, 1] = (128, 128, 128)  # grey: unchanged
    bgr[0, 2] = (0, 255, 0)  # green
    out = shift_hue(bgr, 1 / 3)  # red -> green, green -> blue
    assert tuple(out[0, 0]) == pytest.approx((0, 255, 0), abs=3)
    assert tuple(out[0, 1]) == (128, 128, 128)
    assert tuple(out[0, 2]) == pytest.approx((255, 0, 0), abs=3)
    np.testing.assert_array_equal(shift_hue(bgr, -1 / 3)[0, 0],
                                  shift_hue(bgr, 2 / 3 - 1)[0, 0])
    assert RandomHue(0.2)(dict(img=bgr))['img'].shape == bgr.shape


def test_gaussian_noise_per_pixel_or_per_channel():
    img = np.full((50, 50, 3), 128, np.uint8)
    same = gaussian_noise(img, 5.0, np.random.default_rng(0)).astype(int)
    assert (same[..., 0] == same[..., 1]).all()  # one value for all channels
    indep = gaussian_noise(img, 5.0, np.random.default_rng(0),
                           per_channel=True).astype(int)
    assert (indep[..., 0] != indep[..., 1]).mean() > 0.5
