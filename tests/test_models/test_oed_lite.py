"""OED on an ImageNet EfficientNet-Lite0 encoder (configs/_base_/models/
oed_lite0.py): weights by name, OED's taps, output at input size."""
import os.path as osp

import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmcrack  # noqa: F401  (registers the modules and the scheme)
from mmcrack.models.utils.pretrained_weights import (
    load_efficientnet_lite_state_dict,
)

BASE = osp.join(REPO, 'configs', '_base_', 'models', 'oed_lite0.py')


pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def oed_lite0():
    cfg = Config.fromfile(BASE)
    cfg.model.decode_head.decoder_channels = (32, 16, 16, 8, 8)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def test_encoder_has_the_imagenet_weights(oed_lite0):
    state = load_efficientnet_lite_state_dict('lite0', backbone_prefix='')
    encoder = oed_lite0.backbone.encoder
    for key in ('layers.0.conv.weight', 'layers.4.3.expand_conv.bn.'
                'running_var', 'layers.6.conv.weight'):
        assert torch.equal(encoder.state_dict()[key], state[key]), key


def test_config_normalises_to_minus_one_to_one():
    cfg = Config.fromfile(BASE)
    pre = cfg.model.data_preprocessor
    assert pre.mean == [127.5] * 3 and pre.std == [127.5] * 3
    assert pre.bgr_to_rgb


def test_taps_are_oed_strides_and_channels(oed_lite0):
    backbone = oed_lite0.backbone.eval()
    assert backbone.out_channels == (3, 96, 144, 240, 672, 1280)
    assert tuple(oed_lite0.decode_head.in_channels) == backbone.out_channels
    h, w = 70, 90
    with torch.no_grad():
        feats = backbone(torch.randn(1, 3, h, w))
    for feat, c, s in zip(feats, backbone.out_channels,
                          (1, 2, 4, 8, 16, 32)):
        assert feat.shape == (1, c, -(-h // s), -(-w // s))
    # the skips are the expansion activations (ReLU6: in [0, 6])
    assert all(0 <= f.min() and f.max() <= 6 for f in feats[1:])


def test_predicts_one_channel_at_input_size(oed_lite0):
    model = oed_lite0.eval()
    h, w = 70, 90
    img = torch.randint(0, 255, (3, h, w), dtype=torch.uint8)
    sample = SegDataSample(metainfo=dict(
        img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
    with torch.no_grad():
        data = model.data_preprocessor(
            dict(inputs=[img], data_samples=[sample]), False)
        logits = model(data['inputs'], mode='tensor')
        out = model.predict(data['inputs'], data['data_samples'])[0]
    assert logits.shape == (1, 1, h, w)
    prob = out.seg_logits.data
    assert prob.shape == (1, h, w)
    assert 0 <= prob.min() and prob.max() <= 1


def test_loss_reaches_the_pretrained_encoder(oed_lite0):
    model = oed_lite0.train()
    h, w = 64, 64
    mask = torch.zeros(1, h, w, dtype=torch.long)
    mask[:, 30:33, :] = 1
    sample = SegDataSample(
        metainfo=dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)),
        gt_sem_seg=PixelData(data=mask))
    data = model.data_preprocessor(
        dict(inputs=[torch.randint(0, 255, (3, h, w), dtype=torch.uint8)],
             data_samples=[sample]), True)
    model.zero_grad()
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    encoder = model.backbone.encoder
    # the stem (before every tap) and the stride-2 tap are trained
    for weight in (encoder.layers[0].conv.weight,
                   encoder.layers[2][0].expand_conv.conv.weight):
        assert weight.grad is not None and weight.grad.abs().sum() > 0
    model.eval()
