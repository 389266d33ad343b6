"""Crack / no-crack patches derived on the fly (paper step 1).

The paper's code dumps ~700,000 patch PNGs first; here the dataset keeps an
index of (image, y, x, label, kind) in numpy arrays and crops lazily. The
weak-label sources (class folders, image-level lists) find their files in
:mod:`.patch_folders`.
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
    pair_by_stem,
    read_image,
    read_split_file,
)
from mmcrack.utils.windows import window_origins

from .mask_utils import BINARIZE_RULES, binarize_mask
from .patch_folders import (
    CLASSES,
    DEFAULT_CLASS_DIRS,
    SUBSETS,
    FileIndex,
    check_class_balance,
    holdout_mask,
    index_class_folders,
    index_image_list,
)
from .transforms.patch_loading import NUM_DIHEDRAL, pad_to_multiple

SOURCES = ('segmentation', 'folders', 'image_list')
PATCH_MODES = ('resize', 'random_crop', 'center_crop')
CRACK_IMAGE_MODES = ('resize', )
# sample kinds (LoadCrackPatch patch_mode): a window of a padded image, a
# whole file fitted to the patch size, a square cropped from a whole file
KINDS = ('window', 'resize', 'crop')
WINDOW, RESIZE, CROP = range(3)


def window_crack_counts(mask: np.ndarray, patch_size: int, stride: int):
    """Windows of a 0/1 mask and the crack pixels each holds.

    The mask is reflect-padded at the bottom/right to a multiple of
    ``patch_size`` (as the image will be); windows of ``patch_size`` start
    at every multiple of ``stride`` that fits. Counts come from an integral
    image (no loop over windows).

    Args:
        mask: (H, W) array in {0, 1}.

    Returns:
        ``(ys, xs, counts)``: int32 window origins and int64 crack pixel
        counts of the padded windows.
    """
    padded = pad_to_multiple(mask.astype(np.uint8), patch_size)
    hp, wp = padded.shape
    integral = np.zeros((hp + 1, wp + 1), np.int64)
    np.cumsum(np.cumsum(padded, 0, dtype=np.int64), 1, out=integral[1:, 1:])
    y0, x0 = window_origins(mask.shape[0], mask.shape[1], patch_size, stride)
    y1, x1 = y0 + patch_size, x0 + patch_size
    counts = (integral[y1, x1] - integral[y0, x1] - integral[y1, x0] +
              integral[y0, x0])
    return y0, x0, counts


def window_labels(mask: np.ndarray, patch_size: int, stride: int,
                  crack_patch_min_pixels: int = 1):
    """Windows of a 0/1 mask and their crack labels
    (:func:`window_crack_counts`).

    Args:
        mask: (H, W) array in {0, 1}.

    Returns:
        ``(ys, xs, labels)``: int32 window origins and uint8 labels (1 when
        the padded window holds >= ``crack_patch_min_pixels`` crack pixels).
    """
    y0, x0, counts = window_crack_counts(mask, patch_size, stride)
    labels = (counts >= crack_patch_min_pixels).astype(np.uint8)
    return y0, x0, labels


@CLS_DATASETS.register_module()
class CrackPatchDataset(BaseDataset):
    """Crack-patch classification dataset (mmpretrain).

    Three sources:

    * ``source='segmentation'`` — a segmentation layout
      (``data_prefix=dict(img_path='images/train',
      seg_map_path='masks/train')``, optional ``ann_file`` listing stems):
      every image is reflect-padded at bottom/right to a multiple of
      ``patch_size`` and cut into windows of ``patch_size`` at ``stride``; a
      window is ``crack`` (1) when its (padded) mask holds at least
      ``crack_patch_min_pixels`` crack pixels, else ``no_crack`` (0). Masks are
      read once here and dropped.
    * ``source='folders'`` — class folders under
      ``data_prefix=dict(img_path=ROOT)`` named by ``class_dirs`` (names or
      glob patterns, listed non-recursively; :mod:`.patch_folders`),
      optional ``ann_file`` of relative paths. Each file is one sample,
      labelled by its folder and brought to ``patch_size`` by
      ``patch_mode``: ``'resize'`` (default; longer side scaled to
      ``patch_size``, aspect kept, shorter side reflect-padded: the label
      stays exact, the scale changes by ``patch_size / side``),
      ``'random_crop'`` (a random square at native scale, reflect-padded
      when smaller, the centre one in ``test_mode``: the paper's scale, but
      a crop of a crack file may miss the crack) or ``'center_crop'``.
      Files of exactly ``patch_size`` give the same pixels in every mode.
    * ``source='image_list'`` — ``ann_file`` is a ``stem,label`` list of
      the images in ``data_prefix['img_path']``. A ``no_crack`` image gives
      all its windows (``patch_size`` / ``stride``, reflect-padded as the
      segmentation source, label 0) and, with ``image_level_negatives``,
      its whole image fitted to ``patch_size`` (label 0); a ``crack`` image
      gives its whole image fitted to ``patch_size`` (label 1;
      ``crack_image_mode='resize'``, the extension point for
      multiple-instance bags: :meth:`_crack_image_samples`).

    ``holdout`` / ``subset`` (every source) keep the ``'train'`` or
    ``'val'`` part of a hash hold-out of the stems / keys
    (:func:`~.patch_folders.holdout_mask`), for data without a validation
    split. Folder and list sources never open a mask; both classes must be
    present, and a class under 10 % of the samples is warned about (any
    source).

    ``dihedral_aug=True`` multiplies the index by 8 (the paper's rotations by
    0°/90° x horizontal/vertical flips) by index arithmetic: sample ``i`` is
    window ``i // 8`` under transform ``i % 8`` (see ``LoadCrackPatch``).
    ``dihedral_aug='random'`` keeps one sample per window and draws its
    transform uniformly from the 8 each time it is fetched (``np.random``,
    which mmengine seeds per dataloader worker): the same orientations in
    expectation at 1/8 of the epoch length, for CPU budgets. Random crop
    origins are drawn the same way.

    The index lives in numpy arrays (image id, y, x, label, kind); pixels
    are read by the ``LoadCrackPatch`` transform, which must be the
    pipeline's first.

    Args:
        source (str): ``'segmentation'``, ``'folders'`` or
            ``'image_list'``.
        patch_size (int): window / sample size in px (paper 128).
        stride (int): window stride in px (paper 64; segmentation and
            image-list windows).
        crack_patch_min_pixels (int): crack pixels that make a window
            ``crack`` (not the pseudo-label keep rule
            ``output.min_crack_pixels``).
        dihedral_aug (bool | str): ``True`` x8 index augmentation (paper),
            ``'random'`` one random dihedral transform per fetch,
            ``False`` none.
        mask_rule (str): mask binarisation (``binarize_mask``).
        class_dirs (dict, optional): ``{'crack': [...], 'no_crack':
            [...]}`` folder names / glob patterns (``'folders'``).
        patch_mode (str): ``'resize'``, ``'random_crop'`` or
            ``'center_crop'`` (``'folders'``).
        image_level_negatives (bool): whole-image ``no_crack`` samples of
            ``no_crack`` images (``'image_list'``).
        crack_image_mode (str): samples of a ``crack`` image: ``'resize'``
            (``'image_list'``).
        holdout (float): hold-out share in (0, 1) for ``subset``.
        subset (str): ``'all'`` (default), ``'train'`` or ``'val'``.
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
                 class_dirs: Optional[dict] = None,
                 patch_mode: str = 'resize',
                 image_level_negatives: bool = True,
                 crack_image_mode: str = 'resize',
                 holdout: float = 0.0,
                 subset: str = 'all',
                 **kwargs):
        if source not in SOURCES:
            raise ValueError(f'source must be one of {SOURCES}, '
                             f'got {source!r}')
        if mask_rule not in BINARIZE_RULES:
            raise ValueError(f'mask_rule must be one of {BINARIZE_RULES}')
        if dihedral_aug not in (True, False, 'random'):
            raise ValueError("dihedral_aug must be True, False or 'random', "
                             f'got {dihedral_aug!r}')
        if patch_size <= 0 or stride <= 0 or crack_patch_min_pixels < 1:
            raise ValueError('patch_size, stride and crack_patch_min_pixels '
                             'must be positive')
        if patch_mode not in PATCH_MODES:
            raise ValueError(f'patch_mode must be one of {PATCH_MODES}, got '
                             f'{patch_mode!r}')
        if crack_image_mode not in CRACK_IMAGE_MODES:
            raise ValueError(f'crack_image_mode must be one of '
                             f'{CRACK_IMAGE_MODES}, got {crack_image_mode!r}')
        if subset not in SUBSETS or (subset != 'all' and
                                     not 0.0 < holdout < 1.0):
            raise ValueError(f'subset must be one of {SUBSETS} (train / val '
                             f'with 0 < holdout < 1), got {subset!r}, '
                             f'holdout {holdout}')
        if source == 'image_list' and not ann_file:
            raise ValueError("source='image_list' needs ann_file: the "
                             'stem,label list')
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
        self.class_dirs = (DEFAULT_CLASS_DIRS if class_dirs is None
                           else dict(class_dirs))
        self.patch_mode = patch_mode
        self.image_level_negatives = bool(image_level_negatives)
        self.crack_image_mode = crack_image_mode
        self.holdout = float(holdout)
        self.subset = subset
        super().__init__(ann_file=ann_file, **kwargs)

    # -- index ---------------------------------------------------------------
    def full_init(self):
        if self._fully_initialized:
            return
        start = time.time()
        self.mask_paths = []
        self._img_hw = np.zeros((0, 2), np.int32)
        if self.source == 'segmentation':
            self._index_segmentation()
        elif self.source == 'folders':
            self._index_folders()
        else:
            self._index_image_list()
        self._fully_initialized = True
        counts = np.bincount(self._labels, minlength=2)
        aug = NUM_DIHEDRAL if self._x8 else 1
        pose = (' (random dihedral pose per fetch)'
                if self.dihedral_aug == 'random' else '')
        print_log(
            f'CrackPatchDataset ({self.source}): {len(self.img_paths)} '
            f'images -> {len(self._labels)} patches (no_crack {counts[0]}, '
            f'crack {counts[1]}) x{aug} = {len(self)} samples{pose}, '
            f'{time.time() - start:.2f} s', logger='current')
        check_class_balance(counts, f'CrackPatchDataset ({self.source}) '
                            f"in {self.data_prefix.get('img_path', '')}",
                            required=self.source != 'segmentation')

    def _index_segmentation(self):
        img_dir = self.data_prefix.get('img_path', '')
        mask_dir = self.data_prefix.get('seg_map_path', '')
        stems = read_split_file(self.ann_file) if self.ann_file else None
        pairs = pair_by_stem(img_dir, mask_dir, IMG_EXTENSIONS,
                             MASK_EXTENSIONS, stems=stems)
        keep = holdout_mask([p[0] for p in pairs], self.holdout, self.subset)
        pairs = [p for p, ok in zip(pairs, keep) if ok]
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
        self._set_index(img_ids, ys, xs, labels)

    def _set_index(self, img_ids, ys, xs, labels, kinds=None):
        """Concatenate per-image arrays into the sample index."""
        if not img_ids:
            raise ValueError('CrackPatchDataset: no samples (the hold-out '
                             f'subset {self.subset!r} is empty?)')
        self._img_ids = np.concatenate(img_ids).astype(np.int32)
        self._ys = np.concatenate(ys).astype(np.int32)
        self._xs = np.concatenate(xs).astype(np.int32)
        self._labels = np.concatenate(labels).astype(np.uint8)
        self._kinds = (np.zeros(len(self._labels), np.uint8) if kinds is None
                       else np.concatenate(kinds).astype(np.uint8))

    def _index_folders(self):
        index = index_class_folders(
            self.data_prefix.get('img_path', ''), self.class_dirs,
            self.ann_file or None, self.holdout, self.subset)
        n = len(index.paths)
        self.img_paths = index.paths
        self._img_hw = index.sizes
        kind = RESIZE if self.patch_mode == 'resize' else CROP
        zeros = np.zeros(n, np.int32)
        self._set_index([np.arange(n)], [zeros], [zeros], [index.labels],
                        [np.full(n, kind, np.uint8)])

    def _index_image_list(self):
        index: FileIndex = index_image_list(
            self.data_prefix.get('img_path', ''), self.ann_file,
            self.holdout, self.subset)
        self.img_paths = index.paths
        self._img_hw = index.sizes
        parts = ([], [], [], [], [])  # img ids, ys, xs, labels, kinds
        for i, (label, (h, w)) in enumerate(zip(index.labels, index.sizes)):
            if label:
                samples = self._crack_image_samples(i, int(h), int(w))
            else:
                samples = self._no_crack_image_samples(i, int(h), int(w))
            for part, values in zip(parts, samples):
                part.append(values)
        self._set_index(*parts)

    def _no_crack_image_samples(self, i: int, h: int, w: int):
        """Every window of a no-crack image (label 0) and, with
        ``image_level_negatives``, its whole image fitted (label 0)."""
        ys, xs = window_origins(h, w, self.patch_size, self.stride)
        kinds = np.full(len(ys), WINDOW, np.uint8)
        if self.image_level_negatives:
            ys, xs = np.append(ys, 0), np.append(xs, 0)
            kinds = np.append(kinds, RESIZE)
        n = len(ys)
        return (np.full(n, i, np.int32), ys, xs, np.zeros(n, np.uint8),
                kinds)

    def _crack_image_samples(self, i: int, h: int, w: int):
        """The samples of a crack image under ``crack_image_mode``.

        ``'resize'``: one sample, the whole image fitted to ``patch_size``,
        label 1. A multiple-instance mode would return the image's windows
        here (``window_origins(h, w, patch_size, stride)``) with a placeholder
        label and have a hook relabel the top-scored ones each epoch.

        Returns:
            ``(img ids, ys, xs, labels, kinds)`` arrays of equal length.
        """
        one = np.ones(1, np.uint8)
        return (np.full(1, i, np.int32), np.zeros(1, np.int32),
                np.zeros(1, np.int32), one, np.full(1, RESIZE, np.uint8))

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

    def _crop_origin(self, img_id: int):
        """Origin of the ``patch_size`` square cropped from a whole file
        (reflect-padded to at least ``patch_size``): random for
        ``'random_crop'`` outside ``test_mode``, else the centre."""
        size = self.patch_size
        h, w = (max(int(v), size) for v in self._img_hw[img_id])
        if self.patch_mode == 'random_crop' and not self.test_mode:
            return (int(np.random.randint(h - size + 1)),
                    int(np.random.randint(w - size + 1)))
        return (h - size) // 2, (w - size) // 2

    def get_data_info(self, idx: int) -> dict:
        """The sample's info: paths, window origin, patch mode, transform,
        label."""
        if not self._fully_initialized:
            self.full_init()
        window, t = self._split(int(idx))
        img_id = int(self._img_ids[window])
        kind = int(self._kinds[window])
        y, x = int(self._ys[window]), int(self._xs[window])
        if kind == CROP:
            y, x = self._crop_origin(img_id)
        info = dict(
            img_path=self.img_paths[img_id],
            patch_y=y,
            patch_x=x,
            patch_size=self.patch_size,
            patch_mode=KINDS[kind],
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
