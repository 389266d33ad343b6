from .crack_metric import CrackMetric, is_tta_batch
from .crack_patch_metric import CrackPatchMetric, crack_prf

__all__ = ['CrackMetric', 'is_tta_batch', 'CrackPatchMetric', 'crack_prf']
