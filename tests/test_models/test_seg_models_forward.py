"""Forward/backward of every segmentation model at several input sizes."""
import pytest
import torch
from seg_model_helpers import (  # noqa: F401
    build_model_fixture,
    crack_batch_fixture,
    load_cfg_fixture,
    one_thread,
)

MODELS_UNDER_TEST = ('deepcrack_liu', 'deepcrack_zou', 'oed_b0', 'unet_crack')
ANY_SIZE = ('deepcrack_liu', 'deepcrack_zou', 'oed_b0')
SIZES = ((64, 64), (100, 150), (384, 544))
EXPECTED_LOSS_KEYS = {
    'deepcrack_liu': [f'decode.loss_ce_side{i}' for i in range(1, 6)] +
    ['decode.loss_ce_fuse'],
    'deepcrack_zou': [f'decode.loss_ce_side{i}' for i in range(1, 6)] +
    ['decode.loss_ce_fuse'],
    'oed_b0': [
        f'decode.{loss}_{out}' for out in ('main', 'aux_s16', 'aux_s8',
                                           'aux_s4', 'aux_s2')
        for loss in ('loss_ce', 'loss_dice')
    ],
    'unet_crack': ['decode.loss_ce'],
}


def _check_train_step(model, data, name):
    model.train()
    losses = model(**data, mode='loss')
    loss_keys = sorted(k for k in losses if 'loss' in k)
    assert loss_keys == sorted(EXPECTED_LOSS_KEYS[name])
    total, log = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads), 'a parameter got no gradient'
    assert all(torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize('size', SIZES, ids=lambda s: f'{s[0]}x{s[1]}')
@pytest.mark.parametrize('name', MODELS_UNDER_TEST)
def test_forward_backward_through_preprocessor(name, size, build_model,
                                               crack_batch):
    """Loss + backward and predict via the data preprocessor (small models).

    The path a Runner takes; U-Net relies on its preprocessor padding to 32
    and mmseg cropping the prediction back.
    """
    h, w = size
    model = build_model(name, small=True)
    batch = crack_batch(1, h, w)
    data = model.data_preprocessor(batch, True)
    _check_train_step(model, data, name)

    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(crack_batch(1, h, w), False)
        results = model(**data, mode='predict')
    seg_logits = results[0].seg_logits.data
    assert seg_logits.shape == (1, h, w)
    assert results[0].pred_sem_seg.data.shape == (1, h, w)
    # one sigmoid channel: mmseg stores probabilities
    assert 0 <= seg_logits.min() and seg_logits.max() <= 1


@pytest.mark.parametrize('size', SIZES, ids=lambda s: f'{s[0]}x{s[1]}')
@pytest.mark.parametrize('name', ANY_SIZE)
def test_direct_call_any_size(name, size, build_model, crack_batch):
    """Calling the segmentor directly on unpadded inputs of odd sizes."""
    h, w = size
    model = build_model(name, small=True)
    batch = crack_batch(2, h, w)
    inputs = torch.stack(batch['inputs']).float() / 255
    _check_train_step(
        model, dict(inputs=inputs, data_samples=batch['data_samples']), name)
    model.eval()
    with torch.no_grad():
        out = model(inputs, mode='tensor')
    assert out.shape == (2, 1, h, w)


@pytest.mark.slow
@pytest.mark.parametrize(
    'name', ('deepcrack_liu', 'deepcrack_zou', 'oed_b0', 'oed_b5',
             'unet_crack'))
def test_full_model_384x544(name, build_model, crack_batch):
    """The full (paper-size) models once, forward/backward at 384x544."""
    model = build_model(name)
    data = model.data_preprocessor(crack_batch(1, 384, 544), True)
    model.train()
    losses = model(**data, mode='loss')
    total, _ = model.parse_losses(losses)
    total.backward()
    assert torch.isfinite(total)
    model.eval()
    with torch.no_grad():
        out = model(data['inputs'], mode='tensor')
    assert out.shape == (1, 1, 384, 544)


VARIANTS = {
    # the authors' PyTorch port of Zou: no BN, port-style side branches
    'zou_port': ('deepcrack_zou', {
        'model.backbone.norm_cfg': None,
        'model.decode_head.side_mode': 'port',
        'model.decode_head.side_channels': 8,
        'model.decode_head.fuse_kernel_size': 3,
    }),
    # Liu without BN, 3x3 fuse
    'liu_plain': ('deepcrack_liu', {
        'model.backbone.norm_cfg': None,
        'model.decode_head.fuse_kernel_size': 3,
    }),
    # OED with stage outputs as skips (timm features_only style)
    'oed_block_skips': ('oed_b0', {
        'model.backbone.skip_source': 'block',
        'model.decode_head.in_channels': (3, 16, 24, 40, 112, 1280),
    }),
    # OED with BN in the residual blocks
    'oed_res_bn': ('oed_b0', {
        'model.decode_head.res_norm_cfg': dict(type='BN'),
    }),
}


@pytest.mark.parametrize('variant', list(VARIANTS))
def test_config_variants(variant, build_model, crack_batch):
    name, options = VARIANTS[variant]
    model = build_model(name, small=True, **options)
    batch = crack_batch(2, 45, 70)
    data = model.data_preprocessor(batch, True)
    _check_train_step(model, data, name)
    model.eval()
    with torch.no_grad():
        out = model(data['inputs'], mode='tensor')
    assert out.shape == (2, 1, 45, 70)


def test_efficientnet_skips_reject_checkpointing():
    from mmseg.registry import MODELS
    with pytest.raises(AssertionError, match='with_cp'):
        MODELS.build(
            dict(
                type='EfficientNetSkips',
                encoder=dict(
                    type='mmpretrain.EfficientNet', arch='b0', with_cp=True)))
