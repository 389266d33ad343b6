"""Every shipped config loads, names mmcrack, and uses BN (not SyncBN).

A top-level ``norm_cfg`` in a child config does not reach the model dicts
already resolved in an mmseg base; this test catches a config that forgot to
set it where it is used (SyncBN has no CPU kernel).
"""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from conftest import REPO

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
