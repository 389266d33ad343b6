"""Deep-supervision losses: present, and weighted as configured."""
import pytest
import torch
import torch.nn.functional as F
from seg_model_helpers import (  # noqa: F401
    build_model_fixture,
    crack_batch_fixture,
    load_cfg_fixture,
    one_thread,
)

from mmcrack.models.losses import BinaryDiceLoss


def _bce(logit, label, ignore_index=255):
    valid = label != ignore_index
    return F.binary_cross_entropy_with_logits(
        logit[:, 0][valid], label[valid].float())


def _dice(logit, label, smooth=1.0, ignore_index=255):
    valid = (label != ignore_index).float()
    p = logit[:, 0].sigmoid() * valid
    t = (label == 1).float() * valid
    return 1 - (2 * (p * t).sum() + smooth) / (p.sum() + t.sum() + smooth)


CASES = {
    # name: (cfg options, expected output names, expected weights)
    'deepcrack_liu': ({}, ['side1', 'side2', 'side3', 'side4', 'side5',
                           'fuse'], [0.5, 0.75, 1.0, 0.75, 0.5, 1.0]),
    'deepcrack_zou': ({}, ['side1', 'side2', 'side3', 'side4', 'side5',
                           'fuse'], [1.0] * 6),
    'oed_b0': ({}, ['main', 'aux_s16', 'aux_s8', 'aux_s4', 'aux_s2'],
               [1.0] * 5),
}
CUSTOM = {
    'deepcrack_liu': {
        'model.decode_head.side_weights': (0.1, 0.2, 0.0, 0.4, 0.5),
        'model.decode_head.fuse_weight': 3.0
    },
    'deepcrack_zou': {
        'model.decode_head.side_weights': (0.1, 0.2, 0.0, 0.4, 0.5),
        'model.decode_head.fuse_weight': 3.0
    },
    'oed_b0': {
        'model.decode_head.main_weight': 3.0,
        'model.decode_head.aux_weights': (0.1, 0.2, 0.0, 0.4)
    },
}
CUSTOM_WEIGHTS = {
    'deepcrack_liu': [0.1, 0.2, 0.0, 0.4, 0.5, 3.0],
    'deepcrack_zou': [0.1, 0.2, 0.0, 0.4, 0.5, 3.0],
    'oed_b0': [3.0, 0.1, 0.2, 0.0, 0.4],
}


@pytest.mark.parametrize('custom', [False, True], ids=['config', 'custom'])
@pytest.mark.parametrize('name', list(CASES))
def test_deep_supervision_weights(name, custom, build_model, crack_batch):
    _, names, weights = CASES[name]
    options = CUSTOM[name] if custom else {}
    if custom:
        weights = CUSTOM_WEIGHTS[name]
    model = build_model(name, small=True, **options)
    head = model.decode_head
    assert head.output_names == tuple(names)
    assert head.loss_weights == tuple(weights)

    batch = crack_batch(2, 64, 96)
    # some ignored pixels, which must not count
    batch['data_samples'][0].gt_sem_seg.data[:, :5] = 255
    data = model.data_preprocessor(batch, True)
    model.train()
    with torch.no_grad():
        outs = head.forward_all(model.extract_feat(data['inputs']))
        losses = head.loss_by_feat(outs, data['data_samples'])
    label = torch.stack(
        [s.gt_sem_seg.data for s in data['data_samples']])[:, 0]
    is_oed = name.startswith('oed')
    expected = {}
    for out_name, w, logit in zip(names, weights, outs):
        assert logit.shape == (2, 1, 64, 96)
        if w == 0:
            continue
        expected[f'loss_ce_{out_name}'] = w * _bce(logit, label)
        if is_oed:
            expected[f'loss_dice_{out_name}'] = w * _dice(logit, label)
    got = {k: v for k, v in losses.items() if 'loss' in k}
    assert sorted(got) == sorted(expected)
    for k in expected:
        torch.testing.assert_close(got[k], expected[k], rtol=1e-4, atol=1e-6)
    # the main output drives acc_seg and inference
    assert 0 <= losses['acc_seg'] <= 100


def test_forward_returns_main_output(build_model, crack_batch):
    model = build_model('deepcrack_liu', small=True).eval()
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        feats = model.extract_feat(x)
        outs = model.decode_head.forward_all(feats)
        main = model.decode_head.forward(feats)
    assert len(outs) == 6
    torch.testing.assert_close(main, outs[-1])


def test_binary_dice_loss():
    label = torch.zeros(2, 8, 8, dtype=torch.long)
    label[:, 2:4] = 1
    logit = (label.float() * 40 - 20)[:, None]
    loss = BinaryDiceLoss()
    assert loss(logit, label) < 1e-3  # perfect prediction
    assert loss(-logit, label) > 0.9  # inverted prediction
    # ignored pixels do not count, whatever is predicted there
    lab2 = label.clone()
    lab2[:, 6:] = 255
    bad = logit.clone()
    bad[:, :, 6:] = 20
    assert loss(bad, lab2) < 1e-3
    # smooth=1 over the whole batch, as OED's Keras ce_dice_loss
    p = torch.full((2, 1, 8, 8), 0.0)  # sigmoid = 0.5
    inter = 0.5 * 32
    expected = 1 - (2 * inter + 1) / (0.5 * 128 + 32 + 1)
    torch.testing.assert_close(loss(p, label), torch.tensor(expected))
    # per-image variant and loss_weight
    per_image = BinaryDiceLoss(batch_dice=False, loss_weight=2.0)
    torch.testing.assert_close(per_image(p, label),
                               2 * torch.tensor(1 - 17 / 49))
    assert loss.loss_name == 'loss_dice'


def test_heads_reject_multi_channel_output(load_cfg):
    from mmseg.registry import MODELS
    cfg = load_cfg('deepcrack_liu').model.decode_head
    cfg.out_channels = 2
    with pytest.raises(ValueError, match='out_channels must be 1'):
        MODELS.build(cfg)
