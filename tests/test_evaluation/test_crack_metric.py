"""CrackMetric as an mmengine metric: inputs, registry, TTA refusal."""
import json
import logging

import numpy as np
import pytest
import torch
from crack_oracle import oracle_counts, oracle_summary

from mmcrack.evaluation import CrackMetric, is_tta_batch
from mmcrack.evaluation.functional import DEFAULT_THRESHOLDS


def make_samples(seed=0, n=5, channels=1, ignore=False):
    """Dict samples as mmengine's Evaluator passes them (``to_dict()``),
    plus the probabilities and gt for the oracle."""
    rng = np.random.default_rng(seed)
    samples, ref = [], []
    for i in range(n):
        h, w = int(rng.integers(5, 30)), int(rng.integers(5, 30))
        gt = (rng.random((h, w)) < 0.2).astype(np.int64)
        if i == 1:
            gt[:] = 0  # empty-GT image
        ign = rng.random((h, w)) < 0.1 if ignore else np.zeros((h, w), bool)
        gt_stored = np.where(ign, 255, gt)
        if channels == 1:
            prob = rng.random((h, w)).astype(np.float32)
            prob[rng.random((h, w)) < 0.3] = 0.5  # exactly on a threshold
            logits = torch.from_numpy(prob)[None]
        else:
            logits = torch.from_numpy(
                rng.normal(size=(channels, h, w)).astype(np.float32))
            l64 = logits.numpy().astype(np.float64)
            prob = (1 / (1 + np.exp(l64[0] - l64[1]))).astype(np.float32)
            assert np.allclose(prob, torch.softmax(logits, 0)[1].numpy(),
                               atol=1e-6)
        samples.append(
            dict(seg_logits=dict(data=logits),
                 pred_sem_seg=dict(data=(logits[:1] > 0.5).long()),
                 gt_sem_seg=dict(data=torch.from_numpy(gt_stored)[None]),
                 img_path=f'img_{i}.jpg', ori_shape=(h, w)))
        ref.append(oracle_counts(prob, gt, DEFAULT_THRESHOLDS, ign))
    return samples, ref


def run_metric(metric, samples, batch=2):
    for s in range(0, len(samples), batch):
        chunk = samples[s:s + batch]
        metric.process(dict(inputs=[None] * len(chunk)), chunk)
    return metric.evaluate(len(samples))


@pytest.mark.parametrize('channels', [1, 2])
@pytest.mark.parametrize('f1_mode', ['mean', 'pooled'])
def test_metric_equals_oracle(channels, f1_mode):
    samples, ref = make_samples(channels=channels, ignore=True)
    metric = CrackMetric(f1_mode=f1_mode)
    res = run_metric(metric, samples)
    o = oracle_summary(ref, DEFAULT_THRESHOLDS, f1_mode)
    for key in ('ODS', 'OIS', 'AP', 'ODS_thr'):
        assert abs(res[key] - o[key]) <= 1e-12, key
    np.testing.assert_allclose(res['precision'], o['precision'], atol=1e-12)
    np.testing.assert_allclose(res['recall'], o['recall'], atol=1e-12)
    assert res['thresholds'] == DEFAULT_THRESHOLDS.tolist()
    assert len(res['f1']) == 99 and max(res['f1']) == res['ODS']
    assert metric.results == []  # evaluate() clears


def test_metric_record_is_small_and_per_image():
    samples, ref = make_samples(n=3, ignore=True)
    metric = CrackMetric()
    metric.process(None, samples)
    assert len(metric.results) == 3
    for rec, r, s in zip(metric.results, ref, samples):
        assert rec['counts'].shape == (99, 3)
        assert rec['counts'].dtype == np.int64
        np.testing.assert_array_equal(rec['counts'], r)
        assert rec['n_ignored'] == int((s['gt_sem_seg']['data'] == 255).sum())
        assert rec['img_path'] == s['img_path']


def test_accepts_segdatasample_objects_and_custom_grid(tmp_path):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples, _ = make_samples(n=3)
    objs = []
    for s in samples:
        ds = SegDataSample()
        ds.seg_logits = PixelData(data=s['seg_logits']['data'])
        ds.gt_sem_seg = PixelData(data=s['gt_sem_seg']['data'])
        ds.set_metainfo(dict(img_path=s['img_path']))
        objs.append(ds)
    out = tmp_path / 'm.json'
    metric = CrackMetric(thresholds=10, return_curves=False,
                         out_file=str(out))
    res = run_metric(metric, objs)
    assert set(res) == {'ODS', 'OIS', 'AP', 'ODS_thr'}
    t = np.arange(1, 10) / 10
    ref = [oracle_counts(s['seg_logits']['data'][0].numpy(),
                         s['gt_sem_seg']['data'][0].numpy(), t)
           for s in samples]
    o = oracle_summary(ref, t)
    assert abs(res['ODS'] - o['ODS']) <= 1e-12
    full = json.loads(out.read_text())
    assert full['img_paths'] == [s['img_path'] for s in samples]
    assert len(full['image_best_f1']) == 3 and len(full['precision']) == 9


def test_registered_in_root_and_resolves_from_mmseg_and_mmpretrain():
    from mmengine.registry import METRICS
    from mmseg.registry import METRICS as SEG_METRICS
    assert METRICS.get('CrackMetric') is CrackMetric
    m = SEG_METRICS.build(dict(type='CrackMetric', f1_mode='pooled'))
    assert isinstance(m, CrackMetric) and m.f1_mode == 'pooled'
    try:
        from mmpretrain.registry import METRICS as CLS_METRICS
    except Exception:  # mmpretrain import problems are not ours to test
        return
    assert CLS_METRICS.get('CrackMetric') is CrackMetric


def test_bad_inputs_name_the_image():
    samples, _ = make_samples(n=1)
    s = samples[0]
    metric = CrackMetric()
    raw = dict(s, seg_logits=dict(data=s['seg_logits']['data'] * 4 - 2))
    with pytest.raises(ValueError, match='img_0.jpg.*not probabilities'):
        metric.process(None, [raw])
    nan = s['seg_logits']['data'].clone()
    nan[0, 0, 0] = float('nan')
    with pytest.raises(ValueError, match='img_0.jpg'):
        metric.process(None, [dict(s, seg_logits=dict(data=nan))])
    unmapped = dict(s, gt_sem_seg=dict(data=s['gt_sem_seg']['data'] * 2))
    with pytest.raises(ValueError, match=r'img_0.jpg.*values \[2\]'):
        metric.process(None, [unmapped])
    small = dict(s, gt_sem_seg=dict(data=s['gt_sem_seg']['data'][:, 1:]))
    with pytest.raises(ValueError, match='img_0.jpg.*but gt_sem_seg'):
        metric.process(None, [small])
    with pytest.raises(KeyError, match='seg_logits'):
        metric.process(None, [{k: v for k, v in s.items()
                               if k != 'seg_logits'}])
    with pytest.raises(ValueError, match='f1_mode'):
        CrackMetric(f1_mode='macro')
    with pytest.raises(ValueError, match='no images'):
        CrackMetric().compute_metrics([])
    assert metric.results == []


def test_all_gt_ignored_warns_about_unmapped_masks():
    """0/255 masks left unmapped: every crack pixel equals ignore_index."""
    from mmengine.logging import MMLogger
    samples, _ = make_samples(n=2)
    for s in samples:
        s['gt_sem_seg']['data'] = s['gt_sem_seg']['data'] * 255
    metric = CrackMetric()
    metric.process(None, samples)
    logger = MMLogger.get_current_instance()
    records = []

    class Collect(logging.Handler):

        def emit(self, record):
            records.append(record.getMessage())

    handler = Collect()
    logger.addHandler(handler)
    try:
        metric.evaluate(2)
    finally:
        logger.removeHandler(handler)
    assert any('mapped to 0/1' in r for r in records), records


def _tta_batch():
    """A real TestTimeAug + pseudo_collate batch (two flip views)."""
    from mmcv.transforms import TestTimeAug
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    tta = TestTimeAug(transforms=[
        [dict(type='RandomFlip', prob=0., direction='horizontal'),
         dict(type='RandomFlip', prob=1., direction='horizontal')],
        [dict(type='PackSegInputs')],
    ])
    items = []
    for i in range(2):
        img = np.random.default_rng(i).integers(0, 255, (8, 9, 3), np.uint8)
        gt = np.zeros((8, 9), np.uint8)
        items.append(tta(dict(img=img, gt_seg_map=gt, img_path=f'{i}.jpg',
                              ori_shape=(8, 9), img_shape=(8, 9),
                              seg_fields=['gt_seg_map'])))
    return pseudo_collate(items)


def test_tta_is_refused_with_a_clear_message():
    batch = _tta_batch()
    assert is_tta_batch(batch)
    assert len(batch['inputs']) == 2  # views
    samples, _ = make_samples(n=2)
    with pytest.raises(RuntimeError, match='SegTTAModel.*second sigmoid'):
        CrackMetric().process(batch, samples)
    # an ordinary collated batch is not TTA
    from mmengine.dataset import pseudo_collate
    plain = pseudo_collate([dict(inputs=torch.zeros(3, 4, 4),
                                 data_samples=None)] * 2)
    assert not is_tta_batch(plain) and not is_tta_batch(None)
