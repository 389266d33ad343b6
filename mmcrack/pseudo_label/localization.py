"""Localisation branch of the pseudo-label generator (paper §III-B/C).

Steps:

1. :func:`patch_probability_map` — classify every 32x32 window (stride 16)
   of the reflect-padded image in batches and spread P(crack) over the
   image: averaged over the windows covering each 16x16 cell (paper,
   ``mode='average'``) or one value per window-grid cell stretched over the
   image (published code, ``mode='grid'``); upsampled with
   :func:`upsample_map`.
2. :func:`grad_cam_plus_plus` — Grad-CAM++ (Chattopadhay et al., eq. 19) of
   the classifier's last conv stage for the whole image, normalised to
   [0, 1], upsampled with :func:`upsample_map`. (:func:`grad_cam`, plain
   Grad-CAM with the same conventions, feeds the CRF-label baseline.)
3. :func:`fuse_localization` — mean of both maps, values <= 0.5 set to 0,
   grey erosion 3x3 x 4.

All functions take already-normalised float tensors (the caller applies the
classifier's mean/std) and work on any device; maps are returned as float32
numpy arrays.
"""
from typing import Callable, Optional, Tuple, Union

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from mmcrack.utils.windows import window_grid

__all__ = [
    'window_grid', 'extract_windows', 'patch_probability_map',
    'upsample_map', 'grad_cam', 'grad_cam_plus_plus', 'fuse_localization'
]

_RESAMPLE = {
    'lanczos': Image.Resampling.LANCZOS,
    'bilinear': Image.Resampling.BILINEAR,
    'hamming': Image.Resampling.HAMMING,
    'nearest': Image.Resampling.NEAREST,
}


def _reflect_index(n: int, total: int) -> np.ndarray:
    """Indices of ``total`` >= n samples reflect-padded at the end.

    numpy's ``mode='reflect'``: edge sample not repeated, repeated
    reflection for long pads, a single sample repeated.
    """
    return np.pad(np.arange(n), (0, total - n), mode='reflect')


def extract_windows(img: torch.Tensor, size: int = 32,
                    stride: int = 16) -> torch.Tensor:
    """All sliding windows of an image, row-major.

    Args:
        img: (C, H, W) float tensor (any device).
        size: window size in px.
        stride: window stride in px.

    Returns:
        (nh * nw, C, size, size) tensor (contiguous copy) of the
        reflect-padded image (padding bottom/right to a multiple of
        ``size``, edge pixel not repeated, as ``numpy.pad(mode='reflect')``),
        see :func:`window_grid`.
    """
    if img.dim() != 3:
        raise ValueError(f'img must be (C, H, W), got {tuple(img.shape)}')
    c, h, w = img.shape
    nh, nw, hp, wp = window_grid(h, w, size, stride)
    if hp != h:
        rows = torch.from_numpy(_reflect_index(h, hp)).to(img.device)
        img = img.index_select(1, rows)
    if wp != w:
        cols = torch.from_numpy(_reflect_index(w, wp)).to(img.device)
        img = img.index_select(2, cols)
    win = img.unfold(1, size, stride).unfold(2, size, stride)
    return win.permute(1, 2, 0, 3, 4).reshape(nh * nw, c, size, size)


def upsample_map(heat: Union[np.ndarray, torch.Tensor],
                 size: Tuple[int, int],
                 method: str = 'lanczos',
                 quantize: bool = False) -> np.ndarray:
    """Resize a [0, 1] map with Pillow.

    Args:
        heat: (h, w) map with values in [0, 1].
        size: output ``(H, W)``.
        method: ``'lanczos'`` (paper, default), ``'hamming'`` (published
            code: ``PIL.Image.resize(..., 5)``), ``'bilinear'`` or
            ``'nearest'``; Pillow's filters on a float ('F') image.
        quantize: published-code behaviour: truncate to uint8
            (``uint8(map * 255)``), resize the 8-bit image, divide by 255.

    Returns:
        (H, W) float32 in [0, 1] (Lanczos overshoot clipped).
    """
    if method not in _RESAMPLE:
        raise ValueError(f'method must be one of {sorted(_RESAMPLE)}, '
                         f'got {method!r}')
    if isinstance(heat, torch.Tensor):
        heat = heat.detach().float().cpu().numpy()
    heat = np.asarray(heat, np.float32)
    if heat.ndim != 2:
        raise ValueError(f'heat must be 2-D, got shape {heat.shape}')
    out_h, out_w = int(size[0]), int(size[1])
    if quantize:
        img = Image.fromarray((heat * 255).astype(np.uint8))
        out = np.asarray(img.resize((out_w, out_h), _RESAMPLE[method]),
                         np.float32) / np.float32(255)
    else:
        img = Image.fromarray(np.ascontiguousarray(heat))
        out = np.asarray(img.resize((out_w, out_h), _RESAMPLE[method]),
                         np.float32)
    return np.clip(out, 0, 1)


@torch.no_grad()
def _window_probabilities(model_fn, windows, batch_size, crack_index,
                          channels_last):
    probs = []
    for i in range(0, len(windows), batch_size):
        batch = windows[i:i + batch_size]
        if channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        logits = model_fn(batch)
        probs.append(F.softmax(logits.float(), dim=1)[:, crack_index])
    return torch.cat(probs).cpu().numpy()


def patch_probability_map(model_fn: Callable[[torch.Tensor], torch.Tensor],
                          img: torch.Tensor,
                          size: int = 32,
                          stride: int = 16,
                          batch_size: int = 1024,
                          mode: str = 'average',
                          crack_index: int = 1,
                          resize: str = 'lanczos',
                          quantize: bool = False,
                          channels_last: bool = False) -> np.ndarray:
    """Patch-classification localisation map.

    Every window of :func:`extract_windows` is classified (batches of
    ``batch_size``, no Python loop over windows, under ``torch.no_grad``);
    P(crack) is the softmax of the logits at ``crack_index``.

    * ``mode='average'`` (paper): each ``stride`` x ``stride`` cell of the
      padded image gets the mean P(crack) of all windows covering it
      (``(size / stride)**2`` inside, fewer at the borders). The cells
      covering the image are upsampled by exactly ``stride`` with
      ``resize`` (so cell centres stay in place) and cropped to (H, W).
    * ``mode='grid'`` (published code): one value per window, the (nh, nw)
      grid stretched over the unpadded image with ``resize``.

    Args:
        model_fn: maps a (B, C, size, size) float tensor to (B, K) logits,
            e.g. an mmpretrain ``ImageClassifier`` (``mode='tensor'``).
        img: (C, H, W) normalised float tensor on the model's device.
        size, stride: window size and stride in px (``size`` a multiple of
            ``stride`` for ``mode='average'``).
        batch_size: windows per forward pass.
        mode: ``'average'`` or ``'grid'``.
        crack_index: index of the crack class in the logits.
        resize: see :func:`upsample_map` (``'hamming'`` in the published
            code).
        quantize: see :func:`upsample_map` (published code: True).
        channels_last: pass the windows in channels-last memory format
            (faster for a channels-last model on CPU).

    Returns:
        (H, W) float32 map in [0, 1].
    """
    if mode not in ('average', 'grid'):
        raise ValueError(f"mode must be 'average' or 'grid', got {mode!r}")
    h, w = img.shape[-2:]
    nh, nw, hp, wp = window_grid(h, w, size, stride)
    windows = extract_windows(img, size, stride)
    probs = _window_probabilities(model_fn, windows, batch_size, crack_index,
                                  channels_last).reshape(nh, nw)
    if mode == 'grid':
        return upsample_map(probs, (h, w), resize, quantize)
    if size % stride:
        raise ValueError(f"mode='average' needs size ({size}) to be a "
                         f'multiple of stride ({stride})')
    k = size // stride
    acc = np.zeros((nh + k - 1, nw + k - 1), np.float64)
    cnt = np.zeros_like(acc)
    for dy in range(k):
        for dx in range(k):
            acc[dy:dy + nh, dx:dx + nw] += probs
            cnt[dy:dy + nh, dx:dx + nw] += 1
    ch, cw = -(-h // stride), -(-w // stride)
    cells = (acc / cnt)[:ch, :cw]
    return upsample_map(cells, (ch * stride, cw * stride), resize,
                        quantize)[:h, :w]


def _activation_and_gradient(model, target_layer, inputs, class_index,
                             forward_fn, normalize, name):
    """Forward ``inputs``, backpropagate the class logit to the target layer.

    Shared by :func:`grad_cam` and :func:`grad_cam_plus_plus` (see the
    latter for the hook / grad-mode / eval-mode conventions).

    Returns:
        ``(act, grads, logits)``: the detached (B, C, h, w) activation of
        ``target_layer`` and the gradient of the summed class logits w.r.t.
        it (same shape), both promoted to at least float32, and the
        detached (B, K) logits.
    """
    if normalize not in ('minmax', 'max'):
        raise ValueError(f"normalize must be 'minmax' or 'max', "
                         f'got {normalize!r}')
    if torch.is_inference_mode_enabled():
        raise RuntimeError(f'{name} cannot run under '
                           'torch.inference_mode(); use torch.no_grad()')
    forward_fn = forward_fn or model
    captured = []

    def hook(module, args, output):
        if not isinstance(output, torch.Tensor):
            raise TypeError('the target layer must return a tensor, got '
                            f'{type(output).__name__}')
        act = output.detach().requires_grad_(True)
        captured.append(act)
        torch.set_grad_enabled(True)  # record the tail only
        return act

    was_training = model.training
    grad_mode = torch.is_grad_enabled()
    handle = target_layer.register_forward_hook(hook)
    try:
        model.eval()
        torch.set_grad_enabled(False)
        logits = forward_fn(inputs)
        if not captured:
            raise RuntimeError('the target layer was not called')
        act = captured[-1]
        if class_index is None:
            target = logits.detach().argmax(dim=1)
        else:
            target = torch.full((len(logits), ), class_index,
                                dtype=torch.long, device=logits.device)
        score = logits.gather(1, target[:, None]).sum()
        grads, = torch.autograd.grad(score, act)
    finally:
        handle.remove()
        torch.set_grad_enabled(grad_mode)
        model.train(was_training)
    dtype = torch.promote_types(act.dtype, torch.float32)
    return act.detach().to(dtype), grads.to(dtype), logits.detach()


@torch.no_grad()
def _weighted_cam(weights, act, normalize):
    """``relu(sum_k w_k A_k)`` normalised per image to [0, 1].

    Args:
        weights: (B, C) channel weights.
        act: (B, C, h, w) activation.
        normalize: ``'minmax'`` or ``'max'`` (an all-constant map gives
            zeros).

    Returns:
        (B, h, w) tensor in [0, 1].
    """
    cam = F.relu(torch.einsum('bc,bchw->bhw', weights, act))
    flat = cam.flatten(1)
    hi = flat.max(dim=1).values[:, None, None]
    lo = (flat.min(dim=1).values[:, None, None]
          if normalize == 'minmax' else torch.zeros_like(hi))
    span = hi - lo
    return torch.where(span > 0, (cam - lo) / span.clamp_min(1e-30),
                       torch.zeros_like(cam))


def grad_cam(model: torch.nn.Module,
             target_layer: torch.nn.Module,
             inputs: torch.Tensor,
             class_index: Optional[int] = 1,
             forward_fn: Optional[Callable] = None,
             normalize: str = 'minmax',
             return_logits: bool = False):
    """Batched Grad-CAM (Selvaraju et al., 2017).

    With ``g = dS/dA`` the gradient of the class logit ``S`` w.r.t. the
    target layer's activation ``A``: ``w_k = mean_ij g_kij`` (global
    average of the gradients), ``cam = relu(sum_k w_k A_k)``, then
    normalised per image. Same hooks, modes and conventions as
    :func:`grad_cam_plus_plus` (tail-only graph, works under an outer
    ``torch.no_grad()``, eval mode, everything restored on exceptions; not
    under ``torch.inference_mode()``).

    Args:
        model: the classifier.
        target_layer: module whose (B, C, h, w) output is explained, e.g.
            ``model.backbone.layer4`` (last conv stage).
        inputs: (B, C, H, W) normalised float tensor on the model's device.
        class_index: class to explain (1 = crack); ``None`` explains each
            image's argmax class.
        forward_fn: maps ``inputs`` to (B, K) logits; default
            ``model(inputs)`` (mmpretrain: ``mode='tensor'``).
        normalize: ``'minmax'`` — ``(cam - min) / (max - min)``;
            ``'max'`` — ``cam / max``. An all-constant (e.g. all-zero) CAM
            gives zeros.
        return_logits: also return the (B, K) logits of the forward pass.

    Returns:
        (B, h, w) tensor in [0, 1] (float32, float64 for float64 models) on
        the inputs' device, and the (B, K) logits if ``return_logits``.
    """
    act, g, logits = _activation_and_gradient(model, target_layer, inputs,
                                              class_index, forward_fn,
                                              normalize, 'grad_cam')
    cam = _weighted_cam(g.mean(dim=(2, 3)), act, normalize)
    return (cam, logits) if return_logits else cam


def grad_cam_plus_plus(model: torch.nn.Module,
                       target_layer: torch.nn.Module,
                       inputs: torch.Tensor,
                       class_index: Optional[int] = 1,
                       forward_fn: Optional[Callable] = None,
                       normalize: str = 'minmax',
                       return_logits: bool = False):
    """Batched Grad-CAM++ (Chattopadhay et al., 2018, eq. 19).

    With ``g = dS/dA`` the gradient of the class logit ``S`` w.r.t. the
    target layer's activation ``A`` (closed form for ``Y = exp(S)``):
    ``alpha = g^2 / (2 g^2 + sum_ab(A) g^3)`` (0 where the denominator is
    0), ``w_k = sum_ij alpha * relu(g)``, ``cam = relu(sum_k w_k A_k)``,
    then normalised per image.

    Only the network tail after ``target_layer`` is differentiated: a
    forward hook detaches the activation, marks it as requiring grad and
    switches grad mode on for the rest of the forward pass, so the call
    works under an outer ``torch.no_grad()`` (mmengine's val/test loops),
    with frozen parameters, and builds no graph for the backbone before the
    target layer. The model runs in eval mode; its training flag, the grad
    mode and the hooks are restored/removed even on exceptions. Not usable
    under ``torch.inference_mode()``.

    Args:
        model: the classifier.
        target_layer: module whose (B, C, h, w) output is explained, e.g.
            ``model.backbone.layer4`` (last conv stage).
        inputs: (B, C, H, W) normalised float tensor on the model's device.
        class_index: class to explain (1 = crack); ``None`` explains each
            image's argmax class (published code).
        forward_fn: maps ``inputs`` to (B, K) logits; default
            ``model(inputs)`` (mmpretrain: ``mode='tensor'``).
        normalize: ``'minmax'`` — ``(cam - min) / (max - min)``;
            ``'max'`` — ``cam / max`` (published code). An all-constant
            (e.g. all-zero) CAM gives zeros.
        return_logits: also return the (B, K) logits of the forward pass.

    Returns:
        (B, h, w) tensor in [0, 1] (float32, float64 for float64 models) on
        the inputs' device, and the (B, K) logits if ``return_logits``.
    """
    act, g, logits = _activation_and_gradient(model, target_layer, inputs,
                                              class_index, forward_fn,
                                              normalize, 'grad_cam_plus_plus')
    with torch.no_grad():
        g2 = g * g
        denom = 2 * g2 + act.sum(dim=(2, 3), keepdim=True) * g2 * g
        nonzero = denom != 0
        alpha = torch.where(nonzero, g2 / torch.where(nonzero, denom, 1), 0)
        weights = (alpha * F.relu(g)).sum(dim=(2, 3))
    cam = _weighted_cam(weights, act, normalize)
    return (cam, logits) if return_logits else cam


def fuse_localization(patch_map: np.ndarray,
                      cam_map: np.ndarray,
                      threshold: float = 0.5,
                      erosion_size: int = 3,
                      erosion_iters: int = 4) -> np.ndarray:
    """Fuse the two localisation maps (paper §III-C).

    ``(patch_map + cam_map) / 2``; values ``<= threshold`` become 0; then a
    grey-level erosion (minimum filter) with a ``erosion_size`` square,
    ``erosion_iters`` times (``cv2.erode``; its default border leaves the
    image border un-eroded, as in the published code).

    Args:
        patch_map, cam_map: (H, W) float maps in [0, 1].

    Returns:
        (H, W) float32 in {0} ∪ (threshold, 1].
    """
    patch_map = np.asarray(patch_map, np.float32)
    cam_map = np.asarray(cam_map, np.float32)
    if patch_map.shape != cam_map.shape or patch_map.ndim != 2:
        raise ValueError(f'maps must be 2-D and equal in shape, got '
                         f'{patch_map.shape} and {cam_map.shape}')
    fused = (patch_map + cam_map) / np.float32(2)
    fused[fused <= threshold] = 0
    if erosion_iters > 0 and erosion_size > 1:
        kernel = np.ones((erosion_size, erosion_size), np.uint8)
        fused = cv2.erode(fused, kernel, iterations=erosion_iters)
    return fused
