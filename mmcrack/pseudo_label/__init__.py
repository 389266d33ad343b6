"""Pseudo-label generation from a crack-patch classifier (paper §III-B/C/D).

Pure functions, one per step (``localization.py``, ``thresholding.py``,
which uses the batched (multi-)Otsu of ``multiotsu.py``);
``mmcrack.pseudo_label.generator`` composes them. See docs/pseudo_labels.md.
"""
from .affinity_walk import AffinityWalkLabelGenerator
from .crf_label_generator import CRFLabelGenerator
from .localization import (
                           extract_windows,
                           fuse_localization,
                           grad_cam,
                           grad_cam_plus_plus,
                           patch_probability_map,
                           upsample_map,
                           window_grid,
)
from .multiotsu import multiotsu_thresholds_batched, otsu_thresholds_batched
from .thresholding import (
                           bilateral_filter,
                           patch_multiotsu_mask,
                           rgb_to_gray,
                           threshold_map,
)

__all__ = [
    'window_grid', 'extract_windows', 'patch_probability_map',
    'upsample_map', 'grad_cam', 'grad_cam_plus_plus', 'fuse_localization',
    'bilateral_filter', 'rgb_to_gray', 'multiotsu_thresholds_batched',
    'otsu_thresholds_batched', 'patch_multiotsu_mask', 'threshold_map',
    'CRFLabelGenerator', 'AffinityWalkLabelGenerator'
]
