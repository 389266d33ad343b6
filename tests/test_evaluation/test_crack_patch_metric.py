"""CrackPatchMetric: crack-class precision / recall / F1 (vs sklearn)."""
import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support

import mmcrack  # noqa: F401
from mmcrack.evaluation.metrics import CrackPatchMetric, crack_prf


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_crack_prf_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, 2, 200)
    pred = np.where(rng.random(200) < 0.7, gt, 1 - gt)
    p, r, f, _ = precision_recall_fscore_support(gt, pred, labels=[1],
                                                 zero_division=0)
    out = crack_prf(pred, gt)
    assert out['precision'] == pytest.approx(p[0])
    assert out['recall'] == pytest.approx(r[0])
    assert out['f1'] == pytest.approx(f[0])


def test_metric_process_and_compute():
    import torch
    metric = CrackPatchMetric()
    samples = [dict(pred_label=torch.tensor([p]), gt_label=torch.tensor([g]))
               for p, g in [(1, 1), (1, 0), (0, 1), (0, 0), (1, 1)]]
    metric.process({}, samples)
    out = metric.compute_metrics(metric.results)
    assert out['tp'] == 2 and out['fp'] == 1 and out['fn'] == 1
    assert out['precision'] == pytest.approx(2 / 3)
    assert out['f1'] == pytest.approx(2 / 3)
    assert out['accuracy'] == pytest.approx(3 / 5)
    assert crack_prf(np.zeros(3), np.zeros(3))['f1'] == 0.0
    # the counts survive mmengine's JSON log path (message hub -> numpy
    # scalars -> LoggerHook._process_tags drops numpy integers)
    from mmengine.hooks.logger_hook import LoggerHook
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('test_crack_patch_metric_json')
    for k, v in out.items():
        hub.update_scalar(f'test/{k}', v)
    tags = {k: hub.get_scalar(f'test/{k}').current() for k in out}
    logged = LoggerHook._process_tags(tags)
    assert logged['tp'] == 2 and logged['tn'] == 1 and logged['fn'] == 1
