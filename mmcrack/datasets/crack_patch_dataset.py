"""Crack / no-crack patches derived on the fly (paper step 1).

The paper's code dumps ~700,000 patch PNGs first; here the dataset keeps an
index of (image, y, x, label) in numpy arrays and crops lazily.
"""
import os.path as osp
import time
from typing import List, Optional, Union

import numpy as np
from mmengine.logging import print_log
from mmpretrain.datasets import BaseDataset
from PIL import Image

from mmcrack.registry import CLS_DATASETS
from mmcrack.utils.file_io import (
    IMG_EXTENSIONS,
    MASK_EXTENSIONS,
    list_stems,
    pair_by_stem,
    read_image,
    read_split_file,
)

from .mask_utils import BINARIZE_RULES, binarize_mask
from .transforms.patch_loading import NUM_DIHEDRAL, pad_to_multiple

CLASSES = ('no_crack', 'crack')  # class index 1 = crack


def window_labels(mask: np.ndarray, patch_size: int, stride: int,
                  crack_patch_min_pixels: int = 1):
    """Windows of a 0/1 mask and their crack labels.

    The mask is reflect-padded at the bottom/right to a multiple of
    ``patch_size`` (as the image will be); windows of ``patch_size`` start
    at every multiple of ``stride`` that fits. Counts come from an integral
    image (no loop over windows).

    Args:
        mask: (H, W) array in {0, 1}.

    Returns:
        ``(ys, xs, labels)``: int32 window origins and uint8 labels (1 when
        the padded window holds >= ``crack_patch_min_pixels`` crack pixels).
    """
    padded = pad_to_multiple(mask.astype(np.uint8), patch_size)
    hp, wp = padded.shape
    integral = np.zeros((hp + 1, wp + 1), np.int64)
    np.cumsum(np.cumsum(padded, 0, dtype=np.int64), 1, out=integral[1:, 1:])
    ys = np.arange(0, hp - patch_size + 1, stride, dtype=np.int32)
    xs = np.arange(0, wp - patch_size + 1, stride, dtype=np.int32)
    y0, x0 = np.meshgrid(ys, xs, indexing='ij')
    y1, x1 = y0 + patch_size, x0 + patch_size
    counts = (integral[y1, x1] - integral[y0, x1] - integral[y1, x0] +
              integral[y0, x0])
    labels = (counts >= crack_patch_min_pixels).astype(np.uint8)
    return y0.ravel(), x0.ravel(), labels.ravel()


@CLS_DATASETS.register_module()
class CrackPatchDataset(BaseDataset):
    """Crack-patch classification dataset (mmpretrain).

    Two sources:

    * ``source='segmentation'`` — a segmentation layout
      (``data_prefix=dict(img_path='images/train',
      seg_map_path='masks/train')``, optional ``ann_file`` listing stems):
      every image is reflect-padded at bottom/right to a multiple of
      ``patch_size`` and cut into windows of ``patch_size`` at ``stride``; a
      window is ``crack`` (1) when its (padded) mask holds at least
      ``crack_patch_min_pixels`` crack pixels, else ``no_crack`` (0). Masks are
      read once here and dropped.
    * ``source='folders'`` — ``data_prefix=dict(img_path=ROOT)`` with
      sub-folders ``crack/`` and ``no_crack/`` of ready patches.

    ``dihedral_aug=True`` multiplies the index by 8 (the paper's rotations by
    0°/90° x horizontal/vertical flips) by index arithmetic: sample ``i`` is
    window ``i // 8`` under transform ``i % 8`` (see ``LoadCrackPatch``).
    ``dihedral_aug='random'`` keeps one sample per window and draws its
    transform uniformly from the 8 each time it is fetched (``np.random``,
    which mmengine seeds per dataloader worker): the same orientations in
    expectation at 1/8 of the epoch length, for CPU budgets.

    The index lives in numpy arrays (image id, y, x, label); pixels are read
    by the ``LoadCrackPatch`` transform, which must be the pipeline's first.

    Args:
        source (str): ``'segmentation'`` or ``'folders'``.
        patch_size (int): window size in px (paper 128).
        stride (int): window stride in px (paper 64).
        crack_patch_min_pixels (int): crack pixels that make a window
            ``crack`` (not the pseudo-label keep rule
            ``output.min_crack_pixels``).
        dihedral_aug (bool | str): ``True`` x8 index augmentation (paper),
            ``'random'`` one random dihedral transform per fetch,
            ``False`` none.
        mask_rule (str): mask binarisation (``binarize_mask``).
        **kwargs: mmpretrain ``BaseDataset`` arguments (``data_root``,
            ``data_prefix``, ``ann_file``, ``pipeline``, ``test_mode`` ...).
    """
    METAINFO = dict(classes=CLASSES)

    def __init__(self,
                 source: str = 'segmentation',
                 patch_size: int = 128,
                 stride: int = 64,
                 crack_patch_min_pixels: int = 1,
                 dihedral_aug: Union[bool, str] = False,
                 mask_rule: str = 'ge128',
                 ann_file: str = '',
                 **kwargs):
        if source not in ('segmentation', 'folders'):
            raise ValueError("source must be 'segmentation' or 'folders', "
                             f'got {source!r}')
        if mask_rule not in BINARIZE_RULES:
            raise ValueError(f'mask_rule must be one of {BINARIZE_RULES}')
        if dihedral_aug not in (True, False, 'random'):
            raise ValueError("dihedral_aug must be True, False or 'random', "
                             f'got {dihedral_aug!r}')
        if patch_size <= 0 or stride <= 0 or crack_patch_min_pixels < 1:
            raise ValueError('patch_size, stride and crack_patch_min_pixels '
                             'must be positive')
        for key in ('indices', 'filter_cfg'):
            if kwargs.get(key) is not None:
                raise ValueError(f'CrackPatchDataset does not support {key!r}'
                                 ' (use a split file: ann_file)')
        classes = (kwargs.get('metainfo') or {}).get('classes',
                                                     kwargs.get('classes'))
        if classes is not None and tuple(classes) != CLASSES:
            raise ValueError(f'CrackPatchDataset classes are fixed to '
                             f'{CLASSES} (crack = index 1), got {classes}')
        self.source = source
        self.patch_size = patch_size
        self.stride = stride
        self.crack_patch_min_pixels = crack_patch_min_pixels
        if not isinstance(dihedral_aug, str):
            dihedral_aug = bool(dihedral_aug)  # 1, np.bool_ ... -> bool
        self.dihedral_aug = dihedral_aug
        # x8 copies in the index only for True (not for 'random')
        self._x8 = dihedral_aug is True
        self.mask_rule = mask_rule
        super().__init__(ann_file=ann_file, **kwargs)

    # -- index ---------------------------------------------------------------
    def full_init(self):
        if self._fully_initialized:
            return
        start = time.time()
        if self.source == 'segmentation':
            self._index_segmentation()
        else:
            self._index_folders()
        self._fully_initialized = True
        counts = np.bincount(self._labels, minlength=2)
        aug = NUM_DIHEDRAL if self._x8 else 1
        pose = (' (random dihedral pose per fetch)'
                if self.dihedral_aug == 'random' else '')
        print_log(
            f'CrackPatchDataset: {len(self.img_paths)} images -> '
            f'{len(self._labels)} patches (no_crack {counts[0]}, crack '
            f'{counts[1]}) x{aug} = {len(self)} samples{pose}, '
            f'{time.time() - start:.2f} s', logger='current')

    def _index_segmentation(self):
        img_dir = self.data_prefix.get('img_path', '')
        mask_dir = self.data_prefix.get('seg_map_path', '')
        stems = read_split_file(self.ann_file) if self.ann_file else None
        pairs = pair_by_stem(img_dir, mask_dir, IMG_EXTENSIONS,
                             MASK_EXTENSIONS, stems=stems)
        img_ids, ys, xs, labels = [], [], [], []
        self.img_paths, self.mask_paths = [], []
        unusual = []
        for i, (_, img_path, mask_path) in enumerate(pairs):
            raw = read_image(mask_path, 'unchanged')
            try:
                mask = binarize_mask(raw, self.mask_rule)
            except ValueError as e:
                raise ValueError(f'{mask_path}: {e}') from e
            if not np.isin(raw, (0, 255) if self.mask_rule == 'ge128' else
                           (0, 1, 255)).all():
                unusual.append(osp.basename(mask_path))
            with Image.open(img_path) as im:
                if im.size != (mask.shape[1], mask.shape[0]):
                    raise ValueError(
                        f'size mismatch: image {img_path} is '
                        f'{im.size[0]}x{im.size[1]} (WxH) but mask '
                        f'{mask_path} is {mask.shape[1]}x{mask.shape[0]}')
            y, x, lab = window_labels(mask, self.patch_size, self.stride,
                                      self.crack_patch_min_pixels)
            img_ids.append(np.full(len(y), i, np.int32))
            ys.append(y)
            xs.append(x)
            labels.append(lab)
            self.img_paths.append(img_path)
            self.mask_paths.append(mask_path)
        if unusual:
            print_log(
                f'CrackPatchDataset: {len(unusual)} mask(s) hold values other'
                f' than 0/255 (e.g. {", ".join(unusual[:3])}); binarised with'
                f' rule {self.mask_rule!r} (see binarize_mask)',
                logger='current', level=30)
        self._img_ids = np.concatenate(img_ids)
        self._ys = np.concatenate(ys)
        self._xs = np.concatenate(xs)
        self._labels = np.concatenate(labels)

    def _index_folders(self):
        root = self.data_prefix.get('img_path', '')
        self.img_paths, self.mask_paths, labels = [], [], []
        for label, name in enumerate(CLASSES):
            folder = osp.join(root, name)
            files = list_stems(folder, IMG_EXTENSIONS)
            if not files:
                raise ValueError(f'class folder {folder} holds no images '
                                 f'({", ".join(IMG_EXTENSIONS)}); both '
                                 f'{CLASSES} are needed')
            self.img_paths += [files[s] for s in sorted(files)]
            labels += [label] * len(files)
        n = len(self.img_paths)
        self._img_ids = np.arange(n, dtype=np.int32)
        self._ys = self._xs = np.zeros(n, np.int32)
        self._labels = np.asarray(labels, np.uint8)

    # -- access --------------------------------------------------------------
    def __len__(self) -> int:
        if not self._fully_initialized:
            self.full_init()
        return len(self._labels) * (NUM_DIHEDRAL if self._x8 else 1)

    def _split(self, idx: int):
        if idx < 0:
            idx += len(self)
        if not 0 <= idx < len(self):
            raise IndexError(f'index {idx} out of range ({len(self)})')
        if self._x8:
            return idx // NUM_DIHEDRAL, idx % NUM_DIHEDRAL
        if self.dihedral_aug == 'random':
            return idx, int(np.random.randint(NUM_DIHEDRAL))
        return idx, 0

    def get_data_info(self, idx: int) -> dict:
        """The sample's info: paths, window origin, transform, label."""
        if not self._fully_initialized:
            self.full_init()
        window, t = self._split(int(idx))
        img_id = int(self._img_ids[window])
        info = dict(
            img_path=self.img_paths[img_id],
            patch_y=int(self._ys[window]),
            patch_x=int(self._xs[window]),
            patch_size=(self.patch_size
                        if self.source == 'segmentation' else None),
            dihedral=t,
            gt_label=int(self._labels[window]),
            sample_idx=int(idx))
        if self.source == 'segmentation':
            info.update(seg_map_path=self.mask_paths[img_id],
                        mask_rule=self.mask_rule)
        return info

    def get_gt_labels(self) -> np.ndarray:
        """(len,) int labels of every sample (0 = no_crack, 1 = crack)."""
        if not self._fully_initialized:
            self.full_init()
        labels = self._labels.astype(np.int64)
        return np.repeat(labels, NUM_DIHEDRAL) if self._x8 \
            else labels

    def get_cat_ids(self, idx: int) -> List[int]:
        return [self.get_data_info(idx)['gt_label']]

    def load_data_list(self) -> List[dict]:  # the arrays replace data_list
        return []

    def class_counts(self) -> Optional[np.ndarray]:
        """Windows per class (before the x8 augmentation)."""
        if not self._fully_initialized:
            self.full_init()
        return np.bincount(self._labels, minlength=2)
