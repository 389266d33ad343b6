"""The torch guided filter against a direct numpy implementation."""
import numpy as np
import pytest
import torch
from seg_model_helpers import (  # noqa: F401
    build_model_fixture,
    crack_batch_fixture,
    load_cfg_fixture,
    one_thread,
)

from mmcrack.models.utils import box_mean, guided_filter


def _box_mean_np(x, r):
    h, w = x.shape
    out = np.empty_like(x)
    for i in range(h):
        for j in range(w):
            out[i, j] = x[max(0, i - r):i + r + 1,
                          max(0, j - r):j + r + 1].mean()
    return out


def _guided_filter_np(I, p, r, eps):  # noqa: E741 (the paper's name)
    mean_i, mean_p = _box_mean_np(I, r), _box_mean_np(p, r)
    cov = _box_mean_np(I * p, r) - mean_i * mean_p
    var = _box_mean_np(I * I, r) - mean_i**2
    a = cov / (var + eps)
    b = mean_p - a * mean_i
    return _box_mean_np(a, r) * I + _box_mean_np(b, r)


def test_box_mean_matches_naive():
    x = torch.rand(1, 1, 9, 13, dtype=torch.float64)
    for r in (0, 1, 3):
        np.testing.assert_allclose(
            box_mean(x, r)[0, 0].numpy(), _box_mean_np(x[0, 0].numpy(), r))


@pytest.mark.parametrize('radius,eps', [(1, 1e-2), (2, 1e-6), (5, 1e-6)])
def test_guided_filter_matches_naive(radius, eps):
    g = torch.Generator().manual_seed(0)
    guide = torch.rand(1, 1, 12, 17, generator=g)
    src = (torch.rand(1, 1, 12, 17, generator=g) > 0.7).float()
    out = guided_filter(guide, src, radius, eps)
    assert out.dtype == src.dtype and out.shape == src.shape
    ref = _guided_filter_np(guide[0, 0].double().numpy(),
                            src[0, 0].double().numpy(), radius, eps)
    np.testing.assert_allclose(out[0, 0].numpy(), ref, atol=1e-5)


def test_guided_filter_properties():
    guide = torch.rand(2, 1, 16, 16)
    const = torch.full((2, 1, 16, 16), 0.3)
    torch.testing.assert_close(guided_filter(guide, const, 3, 1e-3), const)
    # self-guided with tiny eps keeps the image (edge preserving)
    torch.testing.assert_close(
        guided_filter(guide, guide, 2, 1e-8), guide, atol=1e-4, rtol=0)
    # huge eps: a plain box blur
    torch.testing.assert_close(
        guided_filter(guide, guide, 2, 1e6), box_mean(box_mean(guide, 2), 2),
        atol=1e-4, rtol=0)


def test_deepcrack_liu_head_guided_filter(build_model, crack_batch):
    """Inference with refinement on: probabilities come out, size kept."""
    model = build_model(
        'deepcrack_liu',
        small=True,
        **{'model.decode_head.guided_filter.enabled': True})
    assert model.decode_head.guided_filter == dict(
        radius=5, eps=1e-6, src_threshold=0.31)
    model.eval()
    data = model.data_preprocessor(crack_batch(1, 40, 56), False)
    with torch.no_grad():
        result = model(**data, mode='predict')[0]
        feats = model.extract_feat(data['inputs'])
        outs = model.decode_head.forward_all(feats)
    prob = result.seg_logits.data
    assert prob.shape == (1, 40, 56)
    expected = guided_filter(outs[0].sigmoid(),
                             (outs[-1].sigmoid() >= 0.31).float(), 5,
                             1e-6).clamp(1e-6, 1 - 1e-6)
    torch.testing.assert_close(prob, expected[0], atol=1e-5, rtol=1e-4)


def test_guided_filter_cfg_is_checked(load_cfg):
    from mmseg.registry import MODELS
    cfg = load_cfg('deepcrack_liu').model.decode_head
    assert MODELS.build(cfg).guided_filter is None  # off by default
    cfg.guided_filter = dict(radius=5, enabled=True)
    with pytest.raises(ValueError, match='radius and eps'):
        MODELS.build(cfg)
