"""Localisation branch: windows, patch map, Grad-CAM(++), fusion."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from scipy import ndimage

from mmcrack.pseudo_label import (
    extract_windows,
    fuse_localization,
    grad_cam,
    grad_cam_plus_plus,
    patch_probability_map,
    upsample_map,
    window_grid,
)

# ----------------------------------------------------------------------
# windows and patch-classification map
# ----------------------------------------------------------------------


def test_window_grid_cfd_size():
    # 480 x 320 (CFD): 19 x 29 = 551 windows of 32 px at stride 16
    assert window_grid(320, 480) == (19, 29, 320, 480)
    assert window_grid(333, 517) == (21, 33, 352, 544)
    assert window_grid(20, 20) == (1, 1, 32, 32)


@pytest.mark.parametrize('shape', [(64, 96), (333, 517), (20, 20), (1, 5)])
def test_extract_windows_match_numpy_reflect_padding(shape):
    rng = np.random.default_rng(0)
    img = rng.random((3, ) + shape).astype(np.float32)
    nh, nw, hp, wp = window_grid(*shape)
    padded = np.pad(img, ((0, 0), (0, hp - shape[0]), (0, wp - shape[1])),
                    mode='reflect')
    win = extract_windows(torch.from_numpy(img))
    assert win.shape == (nh * nw, 3, 32, 32)
    for i in (0, nw - 1, len(win) // 2, len(win) - 1):
        y, x = divmod(i, nw)
        np.testing.assert_array_equal(
            win[i].numpy(), padded[:, y * 16:y * 16 + 32,
                                   x * 16:x * 16 + 32])


class PositionStub:
    """Stub classifier: P(crack) = 1 for chosen windows, 0 elsewhere.

    The test image encodes pixel coordinates (channel 0: row, channel 1:
    column), so a window is recognised by its top-left pixel.
    """

    def __init__(self, crack_windows, stride=16):
        self.crack = {(y * stride, x * stride) for y, x in crack_windows}
        self.calls = []

    def __call__(self, batch):
        self.calls.append(len(batch))
        tl = batch[:, :2, 0, 0].round().long().tolist()
        p = torch.tensor([float(tuple(t) in self.crack) for t in tl],
                         dtype=torch.float64)
        # logits with softmax = (1 - p, p), exact for p in {0, 1}
        big = 1e4
        return torch.stack([(1 - p) * big, p * big], dim=1)


def coordinate_image(h, w):
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
    return torch.stack([yy, xx, torch.zeros_like(yy)]).float()


def test_patch_map_grid_mode_stub():
    img = coordinate_image(64, 96)  # 3 x 5 windows
    stub = PositionStub([(0, 0), (1, 2)])
    out = patch_probability_map(stub, img, mode='grid', resize='nearest')
    expected_grid = np.zeros((3, 5), np.float32)
    expected_grid[0, 0] = expected_grid[1, 2] = 1
    expected = np.asarray(
        Image.fromarray(expected_grid).resize((96, 64),
                                              Image.Resampling.NEAREST))
    np.testing.assert_array_equal(out, expected)
    assert stub.calls == [15]  # one batch, no loop over windows


def test_patch_map_average_mode_stub():
    img = coordinate_image(64, 96)  # 3 x 5 windows, 4 x 6 cells of 16 px
    stub = PositionStub([(0, 0), (1, 2)])
    out = patch_probability_map(stub, img, resize='nearest', batch_size=4)
    assert stub.calls == [4, 4, 4, 3]
    # independent computation: mean P over the windows covering each cell
    cells = np.zeros((4, 6))
    for cy in range(4):
        for cx in range(6):
            covering = [(y, x) for y in (cy - 1, cy) for x in (cx - 1, cx)
                        if 0 <= y < 3 and 0 <= x < 5]
            cells[cy, cx] = np.mean([(y, x) in {(0, 0), (1, 2)}
                                     for y, x in covering])
    expected = np.kron(cells, np.ones((16, 16))).astype(np.float32)
    np.testing.assert_array_equal(out, expected)
    assert out[0, 0] == 1.0 and out[16, 32] == 0.25
    # Lanczos: the same cell map upsampled by exactly the stride
    lanczos = patch_probability_map(stub, img)
    np.testing.assert_array_equal(
        lanczos, upsample_map(cells.astype(np.float32), (64, 96)))


def test_patch_map_crops_padded_cells():
    img = coordinate_image(40, 50)  # padded to 64 x 64: 3 x 3 windows
    stub = PositionStub([(2, 2)])  # the window entirely in the padding
    out = patch_probability_map(stub, img, resize='nearest')
    assert out.shape == (40, 50)
    # 16 px cells: rows 0..31 and columns 0..31 are not covered by it
    assert out[:32, :].max() == 0 and out[:, :32].max() == 0
    assert out[39, 40] == 1 / 4  # cell (2, 2): windows (1..2) x (1..2)
    assert out[39, 49] == 1 / 2  # cell (2, 3): windows (1..2) x (2)


class TinyNet(nn.Module):

    def __init__(self, channels=5, classes=2, bn=False):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4) if bn else nn.Identity()
        self.conv2 = nn.Conv2d(4, channels, 3, stride=2, padding=1)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        x = F.relu(self.bn(self.conv1(x)))
        x = F.relu(self.conv2(x))
        return self.fc(x.mean(dim=(2, 3)))


@pytest.mark.parametrize('shape', [(333, 517), (20, 20)])
def test_patch_map_odd_sizes_and_determinism(shape):
    torch.manual_seed(0)
    net = TinyNet().eval()
    img = torch.randn(3, *shape)
    a = patch_probability_map(net, img, batch_size=64)
    b = patch_probability_map(net, img, batch_size=1000)
    assert a.shape == shape and a.dtype == np.float32
    assert 0 <= a.min() and a.max() <= 1
    np.testing.assert_array_equal(a, patch_probability_map(net, img,
                                                           batch_size=64))
    np.testing.assert_allclose(a, b, atol=1e-6)
    g = patch_probability_map(net, img, mode='grid', resize='hamming',
                              quantize=True, channels_last=True)
    assert g.shape == shape and 0 <= g.min() and g.max() <= 1


def test_upsample_map_methods():
    rng = np.random.default_rng(1)
    m = rng.random((10, 15)).astype(np.float32)
    for method in ('lanczos', 'bilinear', 'hamming', 'nearest'):
        out = upsample_map(m, (320, 480), method)
        assert out.shape == (320, 480) and out.dtype == np.float32
        assert 0 <= out.min() and out.max() <= 1
    # published: uint8 truncation, PIL resample 5 (HAMMING), / 255
    pub = upsample_map(m, (320, 480), 'hamming', quantize=True)
    ref = np.asarray(
        Image.fromarray((m * 255).astype(np.uint8)).resize((480, 320), 5),
        np.float32) / 255
    np.testing.assert_array_equal(pub, ref)
    # a checkerboard overshoots with Lanczos: clipped to [0, 1]
    board = (np.indices((6, 6)).sum(0) % 2).astype(np.float32)
    out = upsample_map(torch.from_numpy(board), (60, 60))
    assert out.min() == 0 and out.max() == 1
    with pytest.raises(ValueError):
        upsample_map(m, (20, 20), 'bicubic')


# ----------------------------------------------------------------------
# Grad-CAM++
# ----------------------------------------------------------------------


def oracle_cam(net, x, cls):
    """Eq. 19 of Chattopadhay et al. with derivatives from autograd.

    For one image: Y = exp(S_cls) as a function of the target activation A
    (conv2 output); the diagonal 2nd and 3rd derivatives of Y w.r.t. each
    A_ij are taken with autograd (full Hessian, Jacobian of its diagonal),
    not from the closed form.
    """
    with torch.no_grad():
        act = net.conv2(F.relu(net.bn(net.conv1(x[None]))))[0]

    def y_of(a):
        h = F.relu(a).mean(dim=(1, 2))
        return torch.exp(net.fc(h)[cls])

    numel = act.numel()
    d1 = torch.autograd.functional.jacobian(y_of, act)

    def hess_diag(a):
        hess = torch.autograd.functional.hessian(y_of, a, create_graph=True)
        return hess.reshape(numel, numel).diagonal().reshape(a.shape)

    d2 = hess_diag(act)
    d3 = torch.autograd.functional.jacobian(hess_diag, act).reshape(
        numel, numel).diagonal().reshape(act.shape)
    sum_a = act.sum(dim=(1, 2), keepdim=True)
    denom = 2 * d2 + sum_a * d3
    alpha = torch.where(denom != 0, d2 / torch.where(denom != 0, denom, 1),
                        0)
    weights = (alpha * F.relu(d1)).sum(dim=(1, 2))
    cam = F.relu((weights[:, None, None] * act).sum(0))
    return (cam - cam.min()) / (cam.max() - cam.min())


def test_grad_cam_plus_plus_matches_eq19_oracle():
    torch.manual_seed(0)
    net = TinyNet().double().eval()
    x = torch.randn(3, 3, 8, 8, dtype=torch.float64)
    cams = grad_cam_plus_plus(net, net.conv2, x, class_index=1)
    assert cams.shape == (3, 4, 4) and cams.dtype == torch.float64
    for i in range(3):
        ref = oracle_cam(net, x[i], 1)
        torch.testing.assert_close(cams[i], ref, atol=1e-6, rtol=0)
    # argmax class per image (published code's choice)
    cams, logits = grad_cam_plus_plus(net, net.conv2, x, class_index=None,
                                      return_logits=True)
    for i in range(3):
        ref = oracle_cam(net, x[i], int(logits[i].argmax()))
        torch.testing.assert_close(cams[i], ref, atol=1e-6, rtol=0)


def test_grad_cam_batched_equals_single_and_is_deterministic():
    torch.manual_seed(1)
    net = TinyNet(channels=6).eval()
    x = torch.randn(4, 3, 20, 20)
    cams = grad_cam_plus_plus(net, net.conv2, x)
    for i in range(4):
        single = grad_cam_plus_plus(net, net.conv2, x[i:i + 1])[0]
        torch.testing.assert_close(cams[i], single, atol=1e-6, rtol=1e-5)
    assert torch.equal(cams, grad_cam_plus_plus(net, net.conv2, x))
    assert cams.min() >= 0 and cams.max() <= 1
    assert torch.allclose(cams.flatten(1).max(1).values, torch.ones(4))
    maxnorm = grad_cam_plus_plus(net, net.conv2, x, normalize='max')
    assert torch.allclose(maxnorm.flatten(1).max(1).values, torch.ones(4))


def test_grad_cam_side_effects():
    torch.manual_seed(2)
    net = TinyNet(bn=True)
    net.train()
    x = torch.randn(2, 3, 16, 16)
    stats = net.bn.running_mean.clone()
    with torch.no_grad():  # as in mmengine's val/test loops
        cams = grad_cam_plus_plus(net, net.conv2, x)
        assert not torch.is_grad_enabled()
    assert cams.shape == (2, 8, 8) and not cams.requires_grad
    assert net.training and net.bn.training  # mode restored
    assert torch.equal(net.bn.running_mean, stats)  # ran in eval mode
    assert not net.conv2._forward_hooks  # hook removed
    assert all(p.grad is None for p in net.parameters())
    # frozen parameters
    for p in net.parameters():
        p.requires_grad_(False)
    grad_cam_plus_plus(net, net.conv2, x)
    # exceptions restore everything too
    with pytest.raises(ValueError):
        grad_cam_plus_plus(net, net.conv2, x,
                           forward_fn=lambda t: (_ for _ in ()).throw(
                               ValueError('boom')))
    assert net.training and not net.conv2._forward_hooks
    assert torch.is_grad_enabled()
    with torch.inference_mode(), pytest.raises(RuntimeError):
        grad_cam_plus_plus(net, net.conv2, x)


def test_grad_cam_flat_map_gives_zeros():
    net = TinyNet().eval()
    with torch.no_grad():
        net.conv2.weight.zero_()
        net.conv2.bias.zero_()
    cams = grad_cam_plus_plus(net, net.conv2, torch.randn(2, 3, 8, 8))
    assert torch.equal(cams, torch.zeros_like(cams))


# ----------------------------------------------------------------------
# Grad-CAM
# ----------------------------------------------------------------------


def oracle_grad_cam(net, x, cls):
    """Grad-CAM of one image written out: autograd gradient of the class
    logit w.r.t. the conv2 activation, channel weights = spatial mean,
    weighted sum of the channels in a Python loop, ReLU, min-max."""
    with torch.no_grad():
        act = net.conv2(F.relu(net.bn(net.conv1(x[None]))))[0]
    act.requires_grad_(True)
    score = net.fc(F.relu(act).mean(dim=(1, 2)))[cls]
    grad, = torch.autograd.grad(score, act)
    act = act.detach()
    cam = torch.zeros(act.shape[1:], dtype=act.dtype)
    for k in range(act.shape[0]):
        cam = cam + grad[k].mean() * act[k]
    cam = torch.clamp(cam, min=0)
    return (cam - cam.min()) / (cam.max() - cam.min())


def test_grad_cam_matches_oracle():
    torch.manual_seed(0)
    net = TinyNet().double().eval()
    x = torch.randn(3, 3, 8, 8, dtype=torch.float64)
    cams = grad_cam(net, net.conv2, x, class_index=1)
    assert cams.shape == (3, 4, 4) and cams.dtype == torch.float64
    for i in range(3):
        torch.testing.assert_close(cams[i], oracle_grad_cam(net, x[i], 1),
                                   atol=1e-10, rtol=0)
    # closed form for this net: dS/dA_kij = fc.weight[1, k] [A_kij > 0] / 16
    with torch.no_grad():
        act = net.conv2(F.relu(net.conv1(x)))
        w = net.fc.weight[1][None, :] * (act > 0).double().mean(dim=(2, 3))
        cam = F.relu((w[:, :, None, None] * act).sum(1))
        lo = cam.flatten(1).min(1).values[:, None, None]
        hi = cam.flatten(1).max(1).values[:, None, None]
        torch.testing.assert_close(cams, (cam - lo) / (hi - lo),
                                   atol=1e-10, rtol=0)
    cams, logits = grad_cam(net, net.conv2, x, class_index=None,
                            return_logits=True)
    torch.testing.assert_close(logits, net(x))
    for i in range(3):
        ref = oracle_grad_cam(net, x[i], int(logits[i].argmax()))
        torch.testing.assert_close(cams[i], ref, atol=1e-10, rtol=0)
    # not the ++ weighting
    assert not torch.allclose(cams, grad_cam_plus_plus(net, net.conv2, x,
                                                       class_index=None))


def test_grad_cam_batched_normalize_and_side_effects():
    torch.manual_seed(1)
    net = TinyNet(channels=6, bn=True).train()
    x = torch.randn(4, 3, 20, 20)
    stats = net.bn.running_mean.clone()
    with torch.no_grad():
        cams = grad_cam(net, net.conv2, x)
        assert not torch.is_grad_enabled()
    assert cams.shape == (4, 10, 10) and not cams.requires_grad
    assert net.training and torch.equal(net.bn.running_mean, stats)
    assert not net.conv2._forward_hooks
    assert all(p.grad is None for p in net.parameters())
    for i in range(4):
        single = grad_cam(net, net.conv2, x[i:i + 1])[0]
        torch.testing.assert_close(cams[i], single, atol=1e-6, rtol=1e-5)
    assert torch.equal(cams, grad_cam(net, net.conv2, x))
    assert cams.min() >= 0 and cams.max() <= 1
    maxnorm = grad_cam(net, net.conv2, x, normalize='max')
    assert torch.allclose(maxnorm.flatten(1).max(1).values, torch.ones(4))
    # min-max is the max-normalised map rescaled (both from one relu map)
    lo = maxnorm.flatten(1).min(1).values[:, None, None]
    torch.testing.assert_close(cams, (maxnorm - lo) / (1 - lo), atol=1e-6,
                               rtol=0)
    with pytest.raises(ValueError):
        grad_cam(net, net.conv2, x, normalize='sum')
    with pytest.raises(ValueError):
        grad_cam(net, net.conv2, x,
                 forward_fn=lambda t: (_ for _ in ()).throw(
                     ValueError('boom')))
    assert net.training and not net.conv2._forward_hooks
    with torch.inference_mode(), pytest.raises(RuntimeError,
                                               match='grad_cam '):
        grad_cam(net, net.conv2, x)
    with torch.no_grad():
        net.conv2.weight.zero_()
        net.conv2.bias.zero_()
    flat = grad_cam(net, net.conv2, x)
    assert torch.equal(flat, torch.zeros_like(flat))


# ----------------------------------------------------------------------
# fusion
# ----------------------------------------------------------------------


def test_fuse_localization_against_scipy():
    rng = np.random.default_rng(3)
    patch = rng.random((40, 60)).astype(np.float32)
    cam = rng.random((40, 60)).astype(np.float32)
    fused = fuse_localization(patch, cam)
    mean = (patch + cam) / 2
    mean[mean <= 0.5] = 0
    # 4 x 3x3 erosion = 9x9 minimum filter; the border is not eroded
    ref = ndimage.minimum_filter(mean, size=9, mode='constant', cval=np.inf)
    np.testing.assert_array_equal(fused, ref)
    assert fused.dtype == np.float32


def test_fuse_localization_hand_made():
    patch = np.zeros((12, 12), np.float32)
    cam = np.zeros((12, 12), np.float32)
    patch[2:11, 2:11] = 1.0  # a 9x9 block survives erosion in one pixel
    cam[2:11, 2:11] = 0.6
    cam[6, 6] = 0.2  # mean 0.6 > 0.5 there
    out = fuse_localization(patch, cam)
    expected = np.zeros((12, 12), np.float32)
    expected[6, 6] = 0.6
    np.testing.assert_allclose(out, expected)
    # exactly 0.5 is suppressed
    half = fuse_localization(np.full((3, 3), 0.5, np.float32),
                             np.full((3, 3), 0.5, np.float32),
                             erosion_iters=0)
    assert not half.any()
    with pytest.raises(ValueError):
        fuse_localization(patch, cam[:5])


def test_mmpretrain_resnet_classifier():
    """The functions work with an mmpretrain ImageClassifier (ResNet-18,
    GlobalAveragePooling, LinearClsHead), channels-last, layer4 as target."""
    from mmpretrain.registry import MODELS
    from mmpretrain.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    torch.manual_seed(0)
    model = MODELS.build(
        dict(type='ImageClassifier',
             backbone=dict(type='ResNet', depth=18, num_stages=4,
                           out_indices=(3, ), style='pytorch'),
             neck=dict(type='GlobalAveragePooling'),
             head=dict(type='LinearClsHead', num_classes=2,
                       in_channels=512)))
    model = model.to(memory_format=torch.channels_last).train()
    img = torch.randn(3, 70, 90)
    patch = patch_probability_map(model, img, channels_last=True)
    assert patch.shape == (70, 90) and 0 <= patch.min() <= patch.max() <= 1
    assert model.training  # the patch map does not touch the mode ...
    with torch.no_grad():
        cam, logits = grad_cam_plus_plus(
            model, model.backbone.layer4,
            img[None].contiguous(memory_format=torch.channels_last),
            return_logits=True)
    assert cam.shape == (1, 3, 3) and logits.shape == (1, 2)
    assert model.training  # ... and Grad-CAM++ restores it
    fused = fuse_localization(patch, upsample_map(cam[0], (70, 90)))
    assert fused.shape == (70, 90)
