from .crack_metric import CrackMetric, is_tta_batch, seg_logits_to_prob
from .crack_patch_metric import CrackPatchMetric, crack_prf

__all__ = [
    'CrackMetric', 'is_tta_batch', 'seg_logits_to_prob', 'CrackPatchMetric',
    'crack_prf'
]
