"""Pseudo-label generation from a crack-patch classifier (paper §III-B/C/D).

Pure functions, one per step (``localization.py``, ``thresholding.py``);
``mmcrack.pseudo_label.generator`` composes them. See docs/pseudo_labels.md.
"""
from .localization import (
                           extract_windows,
                           fuse_localization,
                           grad_cam,
                           grad_cam_plus_plus,
                           patch_probability_map,
                           upsample_map,
                           window_grid,
)
from .thresholding import (
                           bilateral_filter,
                           multiotsu_thresholds_batched,
                           patch_multiotsu_mask,
                           rgb_to_gray,
                           threshold_map,
)

__all__ = [
    'window_grid', 'extract_windows', 'patch_probability_map',
    'upsample_map', 'grad_cam', 'grad_cam_plus_plus', 'fuse_localization',
    'bilateral_filter', 'rgb_to_gray', 'multiotsu_thresholds_batched',
    'patch_multiotsu_mask', 'threshold_map'
]
