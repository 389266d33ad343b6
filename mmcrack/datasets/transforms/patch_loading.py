"""Loading crack / no-crack patches lazily from whole images or files."""
from collections import OrderedDict

import cv2
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


def pad_bottom_right(arr: np.ndarray, ph: int, pw: int) -> np.ndarray:
    """Reflect-pad (edge pixel not repeated, ``np.pad(mode='reflect')``)
    ``ph`` rows at the bottom and ``pw`` columns at the right; an array
    smaller than the padding is reflected repeatedly, a 1-pixel side is
    padded by repetition.

    Args:
        arr: (H, W) or (H, W, C) array of any dtype.
        ph, pw: rows and columns to add (>= 0).

    Returns:
        (H + ph, W + pw[, C]) array (``arr`` itself when nothing is added).
    """
    if not ph and not pw:
        return arr
    h, w = arr.shape[:2]
    pad = [(0, ph), (0, pw)] + [(0, 0)] * (arr.ndim - 2)
    mode = 'reflect' if min(h, w) > 1 else 'edge'
    return np.pad(arr, pad, mode=mode)


def pad_to_multiple(arr: np.ndarray, multiple: int) -> np.ndarray:
    """Reflect-pad at the bottom and right to a multiple of ``multiple``
    (:func:`pad_bottom_right`); images smaller than that are reflected
    repeatedly. A 1-pixel side is padded by repetition.
    """
    h, w = arr.shape[:2]
    return pad_bottom_right(arr, (-h) % multiple, (-w) % multiple)


def pad_to_at_least(arr: np.ndarray, size: int) -> np.ndarray:
    """Reflect-pad at the bottom and right so that both sides are at least
    ``size`` (:func:`pad_bottom_right`); larger sides are left alone."""
    h, w = arr.shape[:2]
    return pad_bottom_right(arr, max(0, size - h), max(0, size - w))


def fit_to_square(img: np.ndarray, size: int) -> np.ndarray:
    """Scale an image so that its longer side is ``size`` (aspect ratio
    kept), then reflect-pad the shorter side at the bottom/right to
    ``size`` — the ``'resize'`` patch mode of whole patch files.

    Interpolation: ``cv2.INTER_AREA`` when the image shrinks in both
    directions (pixel averaging: a thin crack fades but does not vanish
    between samples), else ``cv2.INTER_LINEAR``. A square image is simply
    ``cv2.resize(img, (size, size))`` with that interpolation; an image
    already ``size`` x ``size`` is returned unchanged.

    Args:
        img: (H, W) or (H, W, C) uint8 array.
        size: the side of the output (> 0).

    Returns:
        (size, size[, C]) uint8 array.
    """
    h, w = img.shape[:2]
    scale = size / max(h, w)
    nh = min(size, max(1, int(round(h * scale))))
    nw = min(size, max(1, int(round(w * scale))))
    if (nh, nw) != (h, w):
        interp = cv2.INTER_AREA if nh < h and nw < w else cv2.INTER_LINEAR
        img = cv2.resize(img, (nw, nh), interpolation=interp)
    return pad_bottom_right(img, size - nh, size - nw)


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
    """Load one ``CrackPatchDataset`` sample: a window of a whole image,
    or a whole patch file resized or cropped to the patch size.

    Required keys: ``img_path``, ``patch_size``, ``dihedral`` (0..7) and
    ``patch_mode``:

    * ``'window'`` (or no ``patch_mode`` with an integer ``patch_size``):
      the image is reflect-padded at the bottom/right to a multiple of
      ``patch_size`` (:func:`pad_to_multiple`, cached) and the window at
      ``patch_y``, ``patch_x`` is cut out;
    * ``'resize'``: the whole file is fitted to ``patch_size`` x
      ``patch_size`` (:func:`fit_to_square`);
    * ``'crop'``: the whole file is reflect-padded at the bottom/right to
      at least ``patch_size`` (:func:`pad_to_at_least`) and the square at
      ``patch_y``, ``patch_x`` is cut out (the dataset draws the origin);
    * ``patch_size`` None: the whole file as stored.

    With ``with_mask`` (windows only): ``seg_map_path`` and ``mask_rule``.

    Added keys: ``img`` — uint8 BGR (size, size, 3), the dihedral transform
    applied (OpenCV/mmpretrain channel order: the model's
    ``data_preprocessor`` with ``to_rgb=True`` converts); ``img_shape``,
    ``ori_shape``; with ``with_mask``: ``gt_seg_map`` — uint8 (size, size)
    in {0, 1}, cropped and transformed exactly like the image.

    Args:
        cache_size (int): decoded (padded) images kept per process (LRU),
            for windows.
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
        mode = results.get('patch_mode') or (
            'file' if size is None else 'window')
        if mode == 'window':
            y, x = int(results['patch_y']), int(results['patch_x'])
            padded = self._padded_image(results['img_path'], size)
            img = padded[y:y + size, x:x + size]
            if self.with_mask:
                mask = self._padded_mask(results['seg_map_path'], size,
                                         results.get('mask_rule', 'ge128'))
                results['gt_seg_map'] = dihedral(
                    mask[y:y + size, x:x + size], t)
        elif mode in ('file', 'resize', 'crop'):
            img = read_image(results['img_path'], 'color')[:, :, ::-1]
            if mode == 'resize':
                img = fit_to_square(img, size)
            elif mode == 'crop':
                y, x = int(results['patch_y']), int(results['patch_x'])
                img = pad_to_at_least(img, size)[y:y + size, x:x + size]
        else:
            raise ValueError(f"patch_mode must be 'window', 'resize' or "
                             f"'crop', got {mode!r}")
        img = dihedral(img, t)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(cache_size={self.cache_size}, '
                f'with_mask={self.with_mask})')
