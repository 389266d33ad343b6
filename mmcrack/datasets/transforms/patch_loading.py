"""Loading crack / no-crack patches lazily from whole images."""
from collections import OrderedDict

import numpy as np
from mmcv.transforms import BaseTransform

from mmcrack.registry import TRANSFORMS
from mmcrack.utils.file_io import read_image

from ..mask_utils import binarize_mask

NUM_DIHEDRAL = 8


def dihedral(arr: np.ndarray, t: int) -> np.ndarray:
    """One of the 8 symmetries of the square (the paper's x8 augmentation).

    ``t`` in 0..7: bit 0 = horizontal flip, bit 1 = vertical flip, bit 2 =
    transpose (a 90° rotation composed with a flip). Together: rotations by
    0°/90°/180°/270° and their mirror images, each exactly once.

    Args:
        arr: (H, W) or (H, W, C) array.

    Returns:
        transformed array (a copy, C-contiguous).
    """
    if not 0 <= t < NUM_DIHEDRAL:
        raise ValueError(f'dihedral transform index must be 0..7, got {t}')
    if t & 4:
        arr = np.swapaxes(arr, 0, 1)
    if t & 1:
        arr = arr[:, ::-1]
    if t & 2:
        arr = arr[::-1]
    return np.ascontiguousarray(arr)


def pad_to_multiple(arr: np.ndarray, multiple: int) -> np.ndarray:
    """Reflect-pad (edge pixel not repeated, ``np.pad(mode='reflect')``) at
    the bottom and right to a multiple of ``multiple``; images smaller than
    that are reflected repeatedly. A 1-pixel side is padded by repetition.
    """
    h, w = arr.shape[:2]
    ph, pw = (-h) % multiple, (-w) % multiple
    if not ph and not pw:
        return arr
    pad = [(0, ph), (0, pw)] + [(0, 0)] * (arr.ndim - 2)
    mode = 'reflect' if min(h, w) > 1 else 'edge'
    return np.pad(arr, pad, mode=mode)


class _LRU:

    def __init__(self, size: int):
        self.size = size
        self.items = OrderedDict()

    def get(self, key, make):
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        value = make()
        if self.size > 0:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


@TRANSFORMS.register_module()
class LoadCrackPatch(BaseTransform):
    """Crop one patch of a whole image (``CrackPatchDataset`` samples).

    Required keys: ``img_path``, ``patch_y``, ``patch_x``, ``patch_size``,
    ``dihedral`` (0..7); with ``with_mask``: ``seg_map_path`` and
    ``mask_rule``. Folder-source samples (``patch_size`` None) load the whole
    file.

    Added keys: ``img`` — uint8 BGR (size, size, 3), the dihedral transform
    applied (OpenCV/mmpretrain channel order: the model's
    ``data_preprocessor`` with ``to_rgb=True`` converts); ``img_shape``,
    ``ori_shape``; with ``with_mask``: ``gt_seg_map`` — uint8 (size, size)
    in {0, 1}, cropped and transformed exactly like the image.

    Args:
        cache_size (int): decoded (padded) images kept per process (LRU).
        with_mask (bool): also crop the mask (for inspection and tests).
    """

    def __init__(self, cache_size: int = 32, with_mask: bool = False):
        self.cache_size = cache_size
        self.with_mask = with_mask
        self._images = _LRU(cache_size)
        self._masks = _LRU(cache_size)

    def _padded_image(self, path, size):
        return self._images.get(
            (path, size),
            lambda: pad_to_multiple(read_image(path, 'color')[:, :, ::-1],
                                    size))

    def _padded_mask(self, path, size, rule):
        return self._masks.get(
            (path, size, rule), lambda: pad_to_multiple(
                binarize_mask(read_image(path, 'unchanged'), rule), size))

    def transform(self, results: dict) -> dict:
        size = results.get('patch_size')
        t = int(results.get('dihedral', 0))
        if size is None:  # a whole patch file (folder source)
            img = read_image(results['img_path'], 'color')[:, :, ::-1]
            img = dihedral(img, t)
        else:
            y, x = int(results['patch_y']), int(results['patch_x'])
            padded = self._padded_image(results['img_path'], size)
            img = dihedral(padded[y:y + size, x:x + size], t)
            if self.with_mask:
                mask = self._padded_mask(results['seg_map_path'], size,
                                         results.get('mask_rule', 'ge128'))
                results['gt_seg_map'] = dihedral(
                    mask[y:y + size, x:x + size], t)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(cache_size={self.cache_size}, '
                f'with_mask={self.with_mask})')
