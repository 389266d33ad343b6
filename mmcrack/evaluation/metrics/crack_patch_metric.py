"""Patch-level precision / recall / F1 of the crack class (paper Table I).

Usage in an mmpretrain config::

    val_evaluator = dict(type='CrackPatchMetric')
    test_evaluator = dict(type='CrackPatchMetric')

Per sample only the predicted and true class (and P(crack)) are kept.
Definitions, with ``crack`` the positive class::

    P = TP / (TP + FP)   (0 when nothing is predicted crack)
    R = TP / (TP + FN)   (0 when there is no crack patch)
    F1 = 2 P R / (P + R) (0 when P + R = 0)

— ``sklearn.metrics.precision_recall_fscore_support(..., pos_label=crack,
average='binary', zero_division=0)``. The crack class index comes from
``dataset_meta['classes']`` (``'crack'``), else 1.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmcrack.registry import METRICS

__all__ = ['CrackPatchMetric', 'crack_prf']


def crack_prf(pred: np.ndarray, gt: np.ndarray) -> Dict[str, float]:
    """P / R / F1 / accuracy of the positive class from 0/1 arrays.

    Args:
        pred: predicted labels (1 = crack).
        gt: true labels (1 = crack).

    Returns:
        dict with ``precision``, ``recall``, ``f1``, ``accuracy`` (fractions
        in [0, 1]) and the counts ``tp``, ``fp``, ``fn``, ``tn``.
    """
    pred = np.asarray(pred).astype(bool).ravel()
    gt = np.asarray(gt).astype(bool).ravel()
    if pred.shape != gt.shape:
        raise ValueError(f'pred and gt differ in length: {pred.shape} vs '
                         f'{gt.shape}')
    tp = int(np.count_nonzero(pred & gt))
    fp = int(np.count_nonzero(pred & ~gt))
    fn = int(np.count_nonzero(~pred & gt))
    tn = int(np.count_nonzero(~pred & ~gt))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    acc = (tp + tn) / len(gt) if len(gt) else 0.0
    return dict(precision=p, recall=r, f1=f1, accuracy=acc, tp=tp, fp=fp,
                fn=fn, tn=tn)


@METRICS.register_module()
class CrackPatchMetric(BaseMetric):
    """Crack-class precision, recall and F1 of a patch classifier.

    Reads the mmpretrain ``DataSample`` dicts (``pred_score`` or
    ``pred_label``, ``gt_label``). Reported keys (with the ``patch/``
    prefix): ``precision``, ``recall``, ``f1`` of the crack class and
    ``accuracy`` (fractions in [0, 1]) and the counts ``tp``, ``fp``,
    ``fn``, ``tn``; one summary line is logged.

    Args:
        threshold (float, optional): a patch is crack when P(crack) >=
            ``threshold`` (softmax score); ``None`` (default) uses the
            model's ``pred_label`` (argmax, = threshold 0.5 for 2 classes
            up to ties).
        crack_index (int, optional): class index of ``crack``; default from
            ``dataset_meta['classes']``, else 1.
        collect_device, prefix: see ``mmengine.evaluator.BaseMetric``.
    """
    default_prefix = 'patch'

    def __init__(self,
                 threshold: Optional[float] = None,
                 crack_index: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise ValueError(f'threshold must be in [0, 1], got {threshold}')
        self.threshold = threshold
        self.crack_index = crack_index

    def _crack(self) -> int:
        if self.crack_index is not None:
            return self.crack_index
        classes = (self.dataset_meta or {}).get('classes')
        if classes and 'crack' in classes:
            return list(classes).index('crack')
        return 1

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        crack = self._crack()
        for sample in data_samples:
            gt = int(torch.as_tensor(sample['gt_label']).reshape(-1)[0])
            score = sample.get('pred_score')
            if score is not None:
                score = torch.as_tensor(score).float().reshape(-1)
                p_crack = float(score[crack])
                label = int(score.argmax())
            else:
                p_crack = float('nan')
                label = int(torch.as_tensor(
                    sample['pred_label']).reshape(-1)[0])
            if self.threshold is not None:
                if score is None:
                    raise ValueError('CrackPatchMetric(threshold=...) needs '
                                     'pred_score in the data samples')
                pred_crack = p_crack >= self.threshold
            else:
                pred_crack = label == crack
            self.results.append((int(pred_crack), int(gt == crack), p_crack))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        arr = np.asarray(results, dtype=np.float64).reshape(-1, 3)
        m = crack_prf(arr[:, 0], arr[:, 1])
        print_log(
            f'crack patches: P={100 * m["precision"]:.2f} '
            f'R={100 * m["recall"]:.2f} F1={100 * m["f1"]:.2f} '
            f'acc={100 * m["accuracy"]:.2f} (TP {m["tp"]}, FP {m["fp"]}, '
            f'FN {m["fn"]}, TN {m["tn"]}; {len(arr)} patches)',
            logger='current')
        # counts as floats: mmengine's JSON log drops numpy integers (its
        # message hub stores scalars as numpy values, and only Python
        # int/float pass LoggerHook._process_tags), so they came out null
        return {k: float(v) for k, v in m.items()}
