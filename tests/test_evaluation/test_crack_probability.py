"""seg_logits_to_prob: the crack probability map that CrackMetric scores and
CrackInferencer writes, against a per-pixel softmax in Python floats."""
import math

import numpy as np
import pytest
import torch

from mmcrack.evaluation.functional import seg_logits_to_prob
from mmcrack.evaluation.functional.crack_probability import to_numpy


def oracle_softmax(logits, crack_index):
    """exp(l_crack) / sum_c exp(l_c), pixel by pixel, with math.exp on
    shifted Python floats; float64 (H, W)."""
    x = np.asarray(logits, np.float64)
    out = np.empty(x.shape[1:])
    for i in range(x.shape[1]):
        for j in range(x.shape[2]):
            col = [float(v) for v in x[:, i, j]]
            top = max(col)
            e = [math.exp(v - top) for v in col]
            out[i, j] = e[crack_index] / sum(e)
    return out


def test_one_channel_is_the_probability_itself():
    rng = np.random.default_rng(0)
    p = rng.random((1, 7, 9)).astype(np.float32)
    p[0, 0, :3] = [0.0, 1.0, 0.5]
    t = torch.from_numpy(p)
    prob = seg_logits_to_prob(t)
    assert prob.shape == (7, 9) and prob.dtype == np.float32
    np.testing.assert_array_equal(prob, p[0])
    assert np.shares_memory(prob, p)  # CPU float32 tensor: no copy
    p64 = p.astype(np.float64)
    assert seg_logits_to_prob(p64).dtype == np.float64
    np.testing.assert_array_equal(seg_logits_to_prob(p64), p64[0])
    half = seg_logits_to_prob(t.half())
    assert half.dtype == np.float32
    np.testing.assert_array_equal(half, t.half().float().numpy()[0])
    ints = seg_logits_to_prob(np.array([[[0, 1], [1, 0]]], np.int64))
    assert ints.dtype == np.float32 and ints.tolist() == [[0, 1], [1, 0]]


@pytest.mark.parametrize('bad', [1.5, -0.1, 3.0, float('nan'),
                                 float('inf')])
def test_one_channel_values_outside_0_1_are_refused(bad):
    p = torch.full((1, 4, 5), 0.5)
    p[0, 2, 3] = bad
    with pytest.raises(ValueError,
                       match=r'^img_3\.png: 1-channel seg_logits.*not '
                       'probabilities'):
        seg_logits_to_prob(p, name='img_3.png')
    with pytest.raises(ValueError, match='^1-channel'):  # no name
        seg_logits_to_prob(p.numpy())


@pytest.mark.parametrize('crack_index', [0, 1])
def test_two_channels_softmax_at_crack_index(crack_index):
    rng = np.random.default_rng(crack_index)
    logits = rng.normal(0, 4, (2, 6, 8)).astype(np.float32)
    logits[:, 0, 0] = [700.0, -700.0]  # exp overflows in float64
    logits[:, 0, 1] = [-700.0, 700.0]
    logits[:, 0, 2] = [3.0, 3.0]
    prob = seg_logits_to_prob(torch.from_numpy(logits), crack_index)
    assert prob.shape == (6, 8) and prob.dtype == np.float32
    want = oracle_softmax(logits, crack_index)
    np.testing.assert_allclose(prob, want, rtol=0, atol=1e-7)
    assert prob[0, 2] == 0.5
    assert prob[0, 0] == (1.0 if crack_index == 0 else 0.0)
    assert prob[0, 1] == (0.0 if crack_index == 0 else 1.0)
    # the two channels' probabilities add up to 1
    other = seg_logits_to_prob(logits, 1 - crack_index)
    np.testing.assert_allclose(prob + other, 1.0, rtol=0, atol=1e-7)


def test_more_channels_and_low_precision_tensors():
    rng = np.random.default_rng(5)
    logits = rng.normal(0, 3, (4, 5, 6)).astype(np.float32)
    for k in range(4):
        np.testing.assert_allclose(seg_logits_to_prob(logits, k),
                                   oracle_softmax(logits, k), rtol=0,
                                   atol=1e-7)
    bf16 = torch.from_numpy(logits[:2]).to(torch.bfloat16)
    np.testing.assert_allclose(
        seg_logits_to_prob(bf16),
        oracle_softmax(bf16.float().numpy(), 1), rtol=0, atol=1e-7)


@pytest.mark.parametrize('shape', [(5, 6), (1, 1, 5, 6), (6, )])
def test_bad_shapes(shape):
    with pytest.raises(ValueError,
                       match=r'^a\.jpg: seg_logits must be \(C, H, W\)'):
        seg_logits_to_prob(np.zeros(shape, np.float32), name='a.jpg')


def test_bad_crack_index_and_non_finite_logits():
    logits = np.zeros((2, 3, 4), np.float32)
    for k in (2, -1):
        with pytest.raises(ValueError, match='crack_index=.* 2 channels'):
            seg_logits_to_prob(logits, k)
    # NaN, or inf - inf: NaN probabilities, refused (one inf alone is a
    # certain 0 or 1)
    nan = logits.copy()
    nan[1, 1, 1] = np.nan
    infs = logits.copy()
    infs[:, 1, 1] = np.inf
    for x in (nan, infs, np.concatenate([infs, logits[:1]])):
        with pytest.raises(ValueError, match=r'^b\.png: .*1 NaN'), \
                np.errstate(invalid='ignore'):
            seg_logits_to_prob(x, name='b.png')
    one = logits.copy()
    one[1, 0, 0] = np.inf
    one[0, 0, 1] = np.inf
    prob = seg_logits_to_prob(one)
    assert prob[0, 0] == 1.0 and prob[0, 1] == 0.0


def test_to_numpy():
    a = np.arange(6).reshape(2, 3)
    assert to_numpy(a) is a
    assert to_numpy([[1, 2]]).tolist() == [[1, 2]]
    t = torch.ones(2, 3, requires_grad=True) * 2  # non-leaf, needs detach
    out = to_numpy(t)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    assert out.tolist() == [[2.0] * 3] * 2
    assert to_numpy(torch.zeros(2, dtype=torch.float16)).dtype == np.float32
    assert to_numpy(torch.zeros(2, dtype=torch.int64)).dtype == np.int64
