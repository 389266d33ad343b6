from .crack_patch_dataset import CrackPatchDataset, window_labels
from .crack_seg_dataset import CrackSegDataset
from .mask_utils import binarize_mask
from .transforms import *  # noqa: F401,F403

__all__ = ['CrackPatchDataset', 'CrackSegDataset', 'binarize_mask',
           'window_labels']
