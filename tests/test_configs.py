"""Every shipped config loads, names mmcrack, and uses BN (not SyncBN).

A top-level ``norm_cfg`` in a child config does not reach the model dicts
already resolved in an mmseg base; this test catches a config that forgot to
set it where it is used (SyncBN has no CPU kernel).
"""
import glob
import os.path as osp

import pytest
from conftest import REPO
from mmengine.config import Config

CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                         recursive=True) if '_base_' not in p)


def _walk(node, path=''):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f'{path}.{key}')
            if key == 'norm_cfg' and isinstance(value, dict):
                yield path, value
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _walk(value, f'{path}[{i}]')


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_config_loads_with_plugin_and_bn(path):
    cfg = Config.fromfile(path)
    assert 'mmcrack' in cfg.custom_imports['imports']
    bad = [where for where, norm in _walk(cfg.to_dict().get('model', {}))
           if norm.get('type') == 'SyncBN']
    assert not bad, f'SyncBN left in {bad}'


def test_there_are_configs():
    assert len(CONFIGS) >= 1


SEG_CONFIGS = [p for p in CONFIGS if '/classifier/' not in p]


@pytest.mark.slow
@pytest.mark.parametrize('path', SEG_CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in SEG_CONFIGS])
def test_segmentation_config_predicts_at_input_size(path):
    import torch
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample

    import mmcrack  # noqa: F401
    cfg = Config.fromfile(path)
    init_default_scope('mmseg')
    if 'encoder' in cfg.model.backbone:  # no ImageNet download in tests
        cfg.model.backbone.encoder.init_cfg = None
    model = MODELS.build(cfg.model).eval()
    img = torch.randint(0, 255, (3, 70, 90), dtype=torch.uint8)
    sample = SegDataSample(metainfo=dict(
        img_shape=(70, 90), ori_shape=(70, 90), pad_shape=(70, 90)))
    with torch.no_grad():
        data = model.data_preprocessor(
            dict(inputs=[img], data_samples=[sample]), False)
        out = model.predict(data['inputs'], data['data_samples'])[0]
    prob = out.seg_logits.data
    assert prob.shape == (1, 70, 90)
    assert 0.0 <= prob.min() and prob.max() <= 1.0  # sigmoid probability
