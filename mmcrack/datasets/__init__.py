from .crack_seg_dataset import CrackSegDataset
from .mask_utils import binarize_mask
from .transforms import *  # noqa: F401,F403

__all__ = ['CrackSegDataset', 'binarize_mask']
