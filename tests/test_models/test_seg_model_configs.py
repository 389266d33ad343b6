"""The _base_ model configs: conventions, and heads matching backbones."""
import pytest
import torch
from seg_model_helpers import (  # noqa: F401
    build_model_fixture,
    crack_batch_fixture,
    load_cfg_fixture,
    one_thread,
)

ALL = ('unet_crack', 'deepcrack_liu', 'deepcrack_zou', 'oed_b0', 'oed_b5')


def _norm_cfgs(cfg, path='model'):
    """Every norm_cfg in a config dict, with where it was found."""
    found = []
    if isinstance(cfg, dict):
        for k, v in cfg.items():
            if k == 'norm_cfg':
                found.append((f'{path}.{k}', v))
            else:
                found += _norm_cfgs(v, f'{path}.{k}')
    elif isinstance(cfg, (list, tuple)):
        for i, v in enumerate(cfg):
            found += _norm_cfgs(v, f'{path}[{i}]')
    return found


@pytest.mark.parametrize('name', ALL)
def test_config_conventions(name, load_cfg):
    cfg = load_cfg(name)
    model = cfg.model
    assert model.type == 'EncoderDecoder'
    pre = model.data_preprocessor
    assert pre.mean == [123.675, 116.28, 103.53]
    assert pre.std == [58.395, 57.12, 57.375]
    assert pre.bgr_to_rgb and pre.seg_pad_val == 255
    head = model.decode_head
    assert head.num_classes == 2 and head.out_channels == 1
    assert head.threshold == 0.5
    losses = head.loss_decode if isinstance(head.loss_decode, list) \
        else [head.loss_decode]
    assert losses[0].type == 'CrossEntropyLoss' and losses[0].use_sigmoid
    # no SyncBN anywhere (CPU / gloo); norm_cfg set on every sub-module
    norms = _norm_cfgs(model.to_dict())
    assert norms and all(n['type'] == 'BN' for _, n in norms)
    assert any(p.startswith('model.backbone') for p, _ in norms)
    assert any(p.startswith('model.decode_head') for p, _ in norms)
    if name.startswith('oed'):
        names = [t['type'] for t in losses]
        assert names == ['CrossEntropyLoss', 'BinaryDiceLoss']


@pytest.mark.parametrize('name', ALL)
def test_head_in_channels_match_backbone(name, build_model):
    model = build_model(name)
    backbone, head = model.backbone, model.decode_head
    if hasattr(backbone, 'out_channels'):
        assert tuple(head.in_channels) == tuple(backbone.out_channels)
    model.eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.rand(1, 3, 64, 64))
    if isinstance(head.in_index, int):
        assert feats[head.in_index].shape[1] == head.in_channels
    else:
        assert [feats[i].shape[1] for i in head.in_index] == \
            list(head.in_channels)
