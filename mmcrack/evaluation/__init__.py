"""Crack evaluation: ODS / OIS / AP (functional maths, mmengine metric,
folder evaluation for the CLI and pseudo-label quality)."""
from .folder_eval import (
                          PRED_EXTENSIONS,
                          evaluate_folder,
                          folder_counts,
                          load_gt_mask,
                          load_prob_map,
                          plot_pr_curves,
)
from .functional import *  # noqa: F401,F403
from .functional import __all__ as _functional_all
from .metrics import *  # noqa: F401,F403
from .metrics import __all__ as _metrics_all

__all__ = [
    'PRED_EXTENSIONS', 'evaluate_folder', 'folder_counts', 'load_gt_mask',
    'load_prob_map', 'plot_pr_curves'
] + _functional_all + _metrics_all
