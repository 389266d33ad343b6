"""Pixel noise augmentations of the paper's classifier and segmentation
training (colour jitter comes from mmpretrain / mmseg)."""
from typing import Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mmcrack.registry import TRANSFORMS


def gaussian_noise(img: np.ndarray, sigma: float,
                   rng: np.random.Generator,
                   per_channel: bool = False) -> np.ndarray:
    """Add N(0, sigma²) noise (grey levels) to every pixel.

    Args:
        img: uint8 (H, W) or (H, W, C) image (0..255).
        sigma: standard deviation in grey levels (0..255 scale).
        per_channel: an independent value per channel; default one value
            per pixel added to all channels (as the paper's augmentation
            library, imgaug's ``AdditiveGaussianNoise(per_channel=False)``).

    Returns:
        uint8 array of the same shape (rounded, clipped to 0..255).
    """
    shape = img.shape if per_channel or img.ndim == 2 else img.shape[:2] + (
        1, )
    noisy = img.astype(np.float32) + rng.normal(0.0, sigma, shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def multiplicative_noise(img: np.ndarray, factor: float) -> np.ndarray:
    """Multiply the whole uint8 image by one factor (rounded, clipped)."""
    return np.clip(np.rint(img.astype(np.float32) * factor), 0,
                   255).astype(np.uint8)


@TRANSFORMS.register_module()
class GaussianNoise(BaseTransform):
    """Gaussian pixel noise with sigma drawn from [0, ``max_sigma``].

    Required/modified key: ``img`` (uint8).

    Args:
        max_sigma (float): largest standard deviation in grey levels
            (paper: 0.01 of the range, i.e. 2.55).
        prob (float): probability of applying it.
        per_channel (bool): see :func:`gaussian_noise`.
        seed (int, optional): seed of a private generator (tests);
            default numpy's global state.
    """

    def __init__(self, max_sigma: float = 0.01 * 255, prob: float = 1.0,
                 per_channel: bool = False, seed: Optional[int] = None):
        self.per_channel = per_channel
        self.max_sigma = max_sigma
        self.prob = prob
        self.rng = np.random.default_rng(seed) if seed is not None else None

    def transform(self, results: dict) -> dict:
        rng = self.rng or np.random.default_rng(np.random.randint(2**31))
        if rng.random() < self.prob:
            sigma = rng.uniform(0.0, self.max_sigma)
            results['img'] = gaussian_noise(results['img'], sigma, rng,
                                            self.per_channel)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(max_sigma={self.max_sigma}, '
                f'prob={self.prob})')


@TRANSFORMS.register_module()
class MultiplicativeNoise(BaseTransform):
    """Multiply the image by one factor drawn from ``factor_range``.

    Required/modified key: ``img`` (uint8).

    Args:
        factor_range (tuple): (low, high) (paper: 0.75, 1.25).
        prob (float): probability of applying it.
        seed (int, optional): seed of a private generator (tests).
    """

    def __init__(self, factor_range: Tuple[float, float] = (0.75, 1.25),
                 prob: float = 1.0, seed: Optional[int] = None):
        self.factor_range = tuple(factor_range)
        self.prob = prob
        self.rng = np.random.default_rng(seed) if seed is not None else None

    def transform(self, results: dict) -> dict:
        rng = self.rng or np.random.default_rng(np.random.randint(2**31))
        if rng.random() < self.prob:
            results['img'] = multiplicative_noise(
                results['img'], rng.uniform(*self.factor_range))
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(factor_range='
                f'{self.factor_range}, prob={self.prob})')
