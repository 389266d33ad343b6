"""Pure numpy evaluation maths (no runner needed)."""
from .crack_pr import (
                       DEFAULT_THRESHOLDS,
                       F1_MODES,
                       average_precision,
                       check_prob_map,
                       check_thresholds,
                       default_thresholds,
                       pr_counts,
                       prf_from_counts,
                       summarize_pr,
                       threshold_bins,
)
from .crack_probability import seg_logits_to_prob

__all__ = [
    'DEFAULT_THRESHOLDS', 'F1_MODES', 'average_precision', 'check_prob_map',
    'check_thresholds', 'default_thresholds', 'pr_counts', 'prf_from_counts',
    'seg_logits_to_prob', 'summarize_pr', 'threshold_bins'
]
