"""Hue jitter that works with NumPy 2.

mmcv 2.1.0's ``adjust_hue`` (used by mmpretrain's ``ColorJitter``) computes
``np.uint8(hue_factor * 255)``, which NumPy 2 rejects for negative factors
(``OverflowError``); mmcrack's configs therefore use ``ColorJitter(hue=0)``
followed by :class:`RandomHue`.
"""
import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmcrack.registry import TRANSFORMS


def shift_hue(img_bgr: np.ndarray, factor: float) -> np.ndarray:
    """Rotate the hue of a uint8 BGR image by ``factor`` of a full turn.

    Args:
        img_bgr: uint8 (H, W, 3) BGR.
        factor: in [-0.5, 0.5] (torchvision's ``hue`` convention).

    Returns:
        uint8 (H, W, 3) BGR; grey pixels are unchanged.
    """
    if not -0.5 <= factor <= 0.5:
        raise ValueError(f'hue factor must be in [-0.5, 0.5], got {factor}')
    hsv = cv2.cvtColor(img_bgr, cv2.COLOR_BGR2HSV_FULL)
    shift = int(round(factor * 256)) % 256
    hsv[..., 0] = ((hsv[..., 0].astype(np.int16) + shift) % 256).astype(
        np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL)


@TRANSFORMS.register_module()
class RandomHue(BaseTransform):
    """Shift the hue by a factor drawn from [-max_delta, max_delta].

    Required/modified key: ``img`` (uint8 BGR (H, W, 3)).
    """

    def __init__(self, max_delta: float = 0.2):
        if not 0 <= max_delta <= 0.5:
            raise ValueError('max_delta must be in [0, 0.5]')
        self.max_delta = max_delta

    def transform(self, results: dict) -> dict:
        factor = np.random.uniform(-self.max_delta, self.max_delta)
        results['img'] = shift_hue(results['img'], factor)
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(max_delta={self.max_delta})'
