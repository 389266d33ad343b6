"""ODS / OIS / AP as an mmengine metric for mmseg ``val/test_evaluator``.

Per image only the ``(K, 3)`` TP/FP/FN counts are kept (a few KB), so
memory does not depend on image size and ``collect_results`` across ranks
moves almost nothing. The maths lives in
:mod:`mmcrack.evaluation.functional.crack_pr`; definitions are in its
docstring and in ``docs/metrics.md``.

Usage in an mmseg config::

    val_evaluator = dict(type='CrackMetric')              # ODS, OIS, AP
    test_evaluator = dict(type='CrackMetric', f1_mode='pooled',
                          out_file='work_dirs/x/crack_metrics.json')
"""
import logging
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement

from mmcrack.registry import METRICS

from ..functional.crack_pr import (
    F1_MODES,
    check_thresholds,
    pr_counts,
    summarize_pr,
)
from ..functional.crack_probability import seg_logits_to_prob, to_numpy

__all__ = ['CrackMetric', 'is_tta_batch']

TTA_MESSAGE = (
    'CrackMetric received a test-time-augmentation batch (TestTimeAug '
    'pipeline). mmseg 1.2.2 SegTTAModel cannot be used with a '
    'probability-based metric: for 1-channel heads it applies a second '
    'sigmoid to outputs that are already probabilities (merged values '
    'end up in (0.5, 0.73)), and for every head the returned seg_logits '
    "are the last augmented view's, not the merged ones. ODS/OIS/AP would "
    'be silently wrong, so TTA is refused: evaluate without --tta.')


def is_tta_batch(data_batch: Any) -> bool:
    """True when ``data_batch`` comes from a ``TestTimeAug`` pipeline.

    With ``TestTimeAug``, ``pseudo_collate`` yields, per key, one list per
    augmented view (``data_batch['inputs'][view][image]``) instead of one
    tensor per image -- that is what ``BaseTTAModel.test_step`` expects,
    and what this function detects.
    """
    if not isinstance(data_batch, dict):
        return False
    for key in ('inputs', 'data_samples'):
        value = data_batch.get(key)
        if isinstance(value, (list, tuple)) and value and isinstance(
                value[0], (list, tuple)):
            return True
    return False


@METRICS.register_module()
class CrackMetric(BaseMetric):
    """Exact ODS / OIS / AP of crack probability maps (histogram based).

    Reads ``seg_logits`` (probability for 1-channel heads, softmax of the
    crack channel otherwise) and ``gt_sem_seg`` (0/1, ``ignore_index``
    pixels left out). Keeps one ``(K, 3)`` int64 count array per image.

    Definitions: thresholds ``t_k`` (default ``k/100``, k = 1..99), pixel
    predicted crack when ``p >= t_k``; per image P = TP/(TP+FP) (1 if
    TP+FP = 0), R = TP/(TP+FN) (1 if TP+FN = 0), F1 = 2PR/(P+R) (0 if
    P+R = 0).

    * ``f1_mode='mean'``: OIS = mean_i max_k F1(i,k); ODS = max_k mean_i
      F1(i,k) at ``ODS_thr``.
    * ``f1_mode='pooled'``: ODS = max_k F1 of counts summed over images;
      OIS = F1 of the counts summed at each image's best threshold.
    * AP = sum_k (R_k - R_{k+1}) P_k over ascending thresholds, R_{K+1} = 0,
      with P, R from counts summed over images.

    All values are in [0, 1] (not percent).

    Args:
        thresholds: None (0.01..0.99), int n (k/n, k = 1..n-1) or a
            strictly increasing sequence in [0, 1].
        f1_mode: ``'mean'`` (default) or ``'pooled'``.
        ignore_index: gt value left out of all counts (255).
        crack_index: crack channel for heads with >= 2 output channels.
        return_curves: also return ``thresholds``, ``precision``,
            ``recall`` (dataset level) and ``f1`` (the curve whose max is
            ODS) as lists of floats, for plotting. They are non-scalar, so
            mmengine logs them only at test time; set False for terse logs.
        out_file: if set, rank 0 writes the full summary (curves and
            per-image best F1 / threshold) there as JSON.
        collect_device, prefix, collect_dir: see mmengine ``BaseMetric``.
    """
    default_prefix: Optional[str] = None

    def __init__(self,
                 thresholds=None,
                 f1_mode: str = 'mean',
                 ignore_index: int = 255,
                 crack_index: int = 1,
                 return_curves: bool = True,
                 out_file: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(
            collect_device=collect_device, prefix=prefix, **kwargs)
        if f1_mode not in F1_MODES:
            raise ValueError(f'f1_mode must be one of {F1_MODES}, got '
                             f'{f1_mode!r}')
        self.thresholds = check_thresholds(thresholds)
        self.f1_mode = f1_mode
        self.ignore_index = ignore_index
        self.crack_index = crack_index
        self.return_curves = return_curves
        self.out_file = out_file

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        """Append one record per image: ``counts`` (K, 3) int64 TP/FP/FN,
        ``n_ignored`` and ``img_path``."""
        if is_tta_batch(data_batch):
            raise RuntimeError(TTA_MESSAGE)
        for i, sample in enumerate(data_samples):
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            name = sample.get('img_path') or f'sample {i} of the batch'
            if 'seg_logits' not in sample:
                raise KeyError(
                    f'{name}: CrackMetric needs seg_logits (probabilities) '
                    'in the data sample; got keys '
                    f'{sorted(k for k in sample if not k.startswith("_"))}')
            if 'gt_sem_seg' not in sample:
                raise KeyError(f'{name}: no gt_sem_seg in the data sample; '
                               'add LoadAnnotations to the test pipeline')
            prob = seg_logits_to_prob(sample['seg_logits']['data'],
                                      self.crack_index, name)
            gt = to_numpy(sample['gt_sem_seg']['data'])
            if gt.ndim == 3 and gt.shape[0] == 1:
                gt = gt[0]
            if gt.shape != prob.shape:
                raise ValueError(
                    f'{name}: seg_logits are {prob.shape[0]}x{prob.shape[1]}'
                    f' but gt_sem_seg is {"x".join(map(str, gt.shape))}')
            counts, n_ignored = pr_counts(
                prob,
                gt,
                self.thresholds,
                ignore_index=self.ignore_index,
                name=name,
                return_ignored=True,
                validate=False)  # seg_logits_to_prob has checked prob
            self.results.append(
                dict(
                    counts=counts,
                    n_ignored=n_ignored,
                    img_path=sample.get('img_path')))

    def compute_metrics(self, results: List[dict]) -> Dict[str, Any]:
        """Summarise the per-image records (see class docstring)."""
        if not results:
            raise ValueError('CrackMetric: no images were processed')
        counts = np.stack([np.asarray(r['counts']) for r in results])
        summary = summarize_pr(counts, self.thresholds, self.f1_mode)
        pooled = counts.sum(axis=0)
        n_pos = int(pooled[0, 0] + pooled[0, 2])
        n_ignored = int(sum(r['n_ignored'] for r in results))
        if n_pos == 0:
            print_log(
                f'CrackMetric: no crack pixel in {len(results)} ground-truth'
                f' masks ({n_ignored} pixels equal ignore_index='
                f'{self.ignore_index}). Were 0/255 masks mapped to 0/1? '
                'Recall is 1 by convention, so AP and F1 are not '
                'meaningful.',
                logger='current',
                level=logging.WARNING)
        metrics = dict(
            ODS=summary['ODS'],
            OIS=summary['OIS'],
            AP=summary['AP'],
            ODS_thr=summary['ODS_thr'])
        curve_key = 'mean_f1' if self.f1_mode == 'mean' else 'pooled_f1'
        if self.return_curves:
            metrics.update(
                thresholds=summary['thresholds'].tolist(),
                precision=summary['precision'].tolist(),
                recall=summary['recall'].tolist(),
                f1=summary[curve_key].tolist())
        if self.out_file:
            from mmcrack.utils.file_io import atomic_write_json
            full = {
                k: (v.tolist() if isinstance(v, np.ndarray) else v)
                for k, v in summary.items()
            }
            full['img_paths'] = [r.get('img_path') for r in results]
            full['n_ignored_pixels'] = n_ignored
            atomic_write_json(osp.expanduser(self.out_file), full)
        return metrics
