from .crack_inferencer import CrackInferencer, threshold_from_checkpoint

__all__ = ['CrackInferencer', 'threshold_from_checkpoint']
