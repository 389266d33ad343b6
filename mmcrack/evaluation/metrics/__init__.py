from .crack_metric import CrackMetric, is_tta_batch, seg_logits_to_prob

__all__ = ['CrackMetric', 'is_tta_batch', 'seg_logits_to_prob']
