"""Crack segmentation dataset: images and 0/255 masks paired by file stem."""
import os.path as osp
from typing import List, Optional

from mmseg.datasets import BaseSegDataset
from PIL import Image

from mmcrack.registry import SEG_DATASETS
from mmcrack.utils.file_io import (
    IMG_EXTENSIONS,
    MASK_EXTENSIONS,
    pair_by_stem,
    read_split_file,
)

from .mask_utils import BINARIZE_RULES


@SEG_DATASETS.register_module()
class CrackSegDataset(BaseSegDataset):
    """Crack / background segmentation dataset (mmseg).

    Layout (that of ``../shared/datasets/*`` and of the synthetic generator)::

        data_root/images/<split>/<stem>.jpg|png|...   RGB images
        data_root/masks/<split>/<stem>.png     0 = background, 255 = crack

    located through mmseg's usual ``data_root`` + ``data_prefix=dict(
    img_path='images/train', seg_map_path='masks/train')``. Images and masks
    are paired by stem; an optional ``ann_file`` (relative to ``data_root``)
    lists the stems to use, one per line.

    Masks are turned into labels 0/1 by :func:`binarize_mask` with
    ``mask_rule`` (``'ge128'``: crack where value >= 128, default, for 0/255
    masks also after JPEG compression; ``'nonzero'``: value > 0, for 0/1
    masks). The rule travels in each sample's info and is applied by
    ``LoadCrackAnnotations`` — use that transform, not mmseg's
    ``LoadAnnotations`` (which would keep 255 = ``ignore_index``).

    Args:
        seg_map_dir (str, optional): read masks from this folder instead of
            ``data_prefix['seg_map_path']`` (absolute, or relative to
            ``data_root``) — e.g. a folder of pseudo-labels.
        mask_rule (str): see above.
        check_files (bool): at start, decode every image and mask once and
            fail on empty, truncated or unreadable files and on size
            mismatches (about 2 ms per 544x384 image).
        allow_missing_masks (bool): list images that have no mask (or no
            mask folder at all) with ``seg_map_path=None`` instead of failing.
            For weakly-supervised configs, whose masks are pseudo-labels that
            ``PseudoLabelHook`` writes and points the dataset at before the
            first iteration; a sample without a mask that reaches
            ``LoadCrackAnnotations`` is an error.
        **kwargs: :class:`mmseg.datasets.BaseSegDataset` arguments.

    Raises:
        ValueError: unpaired stems (all listed at once), an unreadable file,
            image/mask size mismatch (both files named), an empty folder.
    """
    METAINFO = dict(classes=('background', 'crack'),
                    palette=[[0, 0, 0], [255, 255, 255]])

    def __init__(self,
                 seg_map_dir: Optional[str] = None,
                 mask_rule: str = 'ge128',
                 check_files: bool = True,
                 allow_missing_masks: bool = False,
                 **kwargs):
        if mask_rule not in BINARIZE_RULES:
            raise ValueError(f'mask_rule must be one of {BINARIZE_RULES}, '
                             f'got {mask_rule!r}')
        self.seg_map_dir = seg_map_dir
        self.mask_rule = mask_rule
        self.check_files = check_files
        self.allow_missing_masks = allow_missing_masks
        kwargs.setdefault('reduce_zero_label', False)
        super().__init__(**kwargs)

    def _mask_dir(self) -> str:
        if self.seg_map_dir is None:
            return self.data_prefix.get('seg_map_path', '')
        if osp.isabs(self.seg_map_dir) or not self.data_root:
            return self.seg_map_dir
        return osp.join(self.data_root, self.seg_map_dir)

    def load_data_list(self) -> List[dict]:
        img_dir = self.data_prefix.get('img_path', '')
        mask_dir = self._mask_dir()
        stems = read_split_file(self.ann_file) if self.ann_file else None
        pairs = pair_by_stem(img_dir, mask_dir, IMG_EXTENSIONS,
                             MASK_EXTENSIONS, stems=stems,
                             allow_missing_b=self.allow_missing_masks)
        data_list = []
        for stem, img_path, mask_path in pairs:
            if self.check_files and mask_path is not None:
                _check_pair(img_path, mask_path)
            data_list.append(
                dict(
                    img_path=img_path,
                    seg_map_path=mask_path,
                    label_map=self.label_map,
                    reduce_zero_label=False,
                    mask_rule=self.mask_rule,
                    seg_fields=[]))
        return data_list


def _image_size(path: str):
    """(W, H) of an image file after a full decode (catches truncation)."""
    if osp.getsize(path) == 0:
        raise ValueError(f'{path}: file is empty (0 bytes)')
    try:
        with Image.open(path) as im:
            im.load()  # decodes everything: truncated files raise here
            return im.size
    except Exception as e:  # PIL raises several types for bad files
        raise ValueError(f'{path}: cannot be read as an image ({e}); '
                         'replace or remove it') from e


def _check_pair(img_path: str, mask_path: str) -> None:
    img_size, mask_size = _image_size(img_path), _image_size(mask_path)
    if img_size != mask_size:
        raise ValueError(f'size mismatch: image {img_path} is '
                         f'{img_size[0]}x{img_size[1]} (WxH) but mask '
                         f'{mask_path} is {mask_size[0]}x{mask_size[1]}')
