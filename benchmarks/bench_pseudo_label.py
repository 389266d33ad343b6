"""Speed of the pseudo-label steps (localisation + thresholding).

For each backbone (ResNet-18, ResNet-50; mmpretrain ``ImageClassifier`` with
a ``GlobalAveragePooling`` neck and a 2-class ``LinearClsHead``; untrained
weights are fine for speed) and for the thresholding branch alone, three
timings are taken in the same run on the same images:

* ours — ``mmcrack.pseudo_label`` (patch map, Grad-CAM++, fusion,
  thresholding),
* reference — the published algorithm re-expressed per window: Python loops
  to cut and merge the windows, a three-derivative Grad-CAM++ on the
  softmax score (the published "three tapes"), ``skimage`` multi-Otsu per
  window with ``out *= mask`` accumulation,
* floor (backbones only) — one batched forward of the same windows plus one
  raw Grad-CAM++ pass (full-image forward, backward through the tail to the
  target activation).

Usage::

    python benchmarks/bench_pseudo_label.py [--images DIR] [--num-images 4]
"""
import argparse
import glob
import os
import os.path as osp
import platform
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from skimage.filters import threshold_multiotsu

from mmcrack.pseudo_label import (
    bilateral_filter,
    extract_windows,
    fuse_localization,
    grad_cam_plus_plus,
    patch_multiotsu_mask,
    patch_probability_map,
    threshold_map,
    upsample_map,
)

DEFAULT_IMAGES = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), '..', 'shared',
    'datasets', 'CFD', 'images', 'test')
MEAN = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)


def build_classifier(depth):
    from mmpretrain.registry import MODELS
    from mmpretrain.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    channels = 512 if depth < 50 else 2048
    model = MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(type='ResNet', depth=depth, num_stages=4,
                          out_indices=(3, ), style='pytorch'),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=2,
                      in_channels=channels)))
    return model.eval().to(memory_format=torch.channels_last)


def load_images(folder, num):
    paths = sorted(glob.glob(osp.join(folder, '*.jpg')) +
                   glob.glob(osp.join(folder, '*.png')))
    images = []
    for path in paths:
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            continue
        img = np.ascontiguousarray(img[:, :, ::-1])  # RGB
        if img.shape[:2] != (320, 480):
            img = cv2.resize(img, (480, 320), interpolation=cv2.INTER_AREA)
        images.append(img)
        if len(images) == num:
            break
    if not images:
        raise SystemExit(f'no images in {folder}')
    return images


def to_tensor(img):
    return (torch.from_numpy(img).permute(2, 0, 1).float() - MEAN) / STD


# --------------------------------------------------------------------------
# ours
# --------------------------------------------------------------------------


def ours_localization(model, tensor, batch_size):
    h, w = tensor.shape[-2:]
    patch = patch_probability_map(model, tensor, batch_size=batch_size,
                                  channels_last=True)
    cam = grad_cam_plus_plus(
        model, model.backbone.layer4,
        tensor[None].contiguous(memory_format=torch.channels_last))[0]
    return fuse_localization(patch, upsample_map(cam, (h, w)))


def ours_thresholding(img):
    return threshold_map(img)


# --------------------------------------------------------------------------
# compute floor
# --------------------------------------------------------------------------


def floor_pass(model, tensor, windows, batch_size):
    with torch.no_grad():
        for i in range(0, len(windows), batch_size):
            model(windows[i:i + batch_size])
    store = {}

    def hook(module, args, output):
        store['act'] = output.detach().requires_grad_(True)
        return store['act']

    handle = model.backbone.layer4.register_forward_hook(hook)
    try:
        with torch.enable_grad():
            logits = model(
                tensor[None].contiguous(memory_format=torch.channels_last))
            torch.autograd.grad(logits[:, 1].sum(), store['act'])
    finally:
        handle.remove()


# --------------------------------------------------------------------------
# per-window reference (published algorithm, Python loops)
# --------------------------------------------------------------------------


def reference_localization(model, tensor):
    c, h, w = tensor.shape
    size, stride = 32, 16
    hp, wp = -(-h // size) * size, -(-w // size) * size
    padded = np.pad(tensor.numpy(), ((0, 0), (0, hp - h), (0, wp - w)),
                    mode='reflect')
    patches, coords = [], []
    for y in range(0, hp - size + 1, stride):
        for x in range(0, wp - size + 1, stride):
            patches.append(torch.from_numpy(padded[:, y:y + size,
                                                   x:x + size].copy()))
            coords.append((y // stride, x // stride))
    with torch.no_grad():
        batch = torch.stack(patches).contiguous(
            memory_format=torch.channels_last)
        probs = F.softmax(model(batch), dim=1)[:, 1].numpy()
    grid = np.zeros((max(c[0] for c in coords) + 1,
                     max(c[1] for c in coords) + 1))
    for p, (gy, gx) in zip(probs, coords):
        grid[gy, gx] = p
    patch = upsample_map(grid, (h, w), 'hamming', quantize=True)

    # Grad-CAM++ with three nested derivatives of the softmax score
    store = {}

    def hook(module, args, output):
        store['act'] = output
        return output

    handle = model.backbone.layer4.register_forward_hook(hook)
    try:
        with torch.enable_grad():
            x = tensor[None].contiguous(memory_format=torch.channels_last)
            prob = F.softmax(model(x), dim=1)
            cls = int(prob.argmax())
            act = store['act']
            g1, = torch.autograd.grad(prob[0, cls], act, create_graph=True)
            g2, = torch.autograd.grad(g1.sum(), act, create_graph=True)
            g3, = torch.autograd.grad(g2.sum(), act)
    finally:
        handle.remove()
    with torch.no_grad():
        act = act.detach()
        g1, g2 = g1.detach(), g2.detach()
        denom = 2 * g2 + act.sum(dim=(2, 3), keepdim=True) * g3
        denom = torch.where(denom != 0, denom, torch.full_like(denom, 1e-10))
        alpha = g2 / denom
        asum = alpha.sum(dim=(2, 3), keepdim=True)
        alpha = alpha / torch.where(asum != 0, asum, torch.ones_like(asum))
        weights = (F.relu(g1) * alpha).sum(dim=(2, 3))
        cam = F.relu((weights[:, :, None, None] * act).sum(1))[0]
        cam = cam / cam.max().clamp_min(1e-10)
    cam = upsample_map(cam, (h, w), 'hamming', quantize=True)
    return fuse_localization(patch, cam)


def reference_thresholding(img, d=2, window=32, stride=8):
    gray = bilateral_filter(img, d)
    h, w = gray.shape
    padded = np.pad(gray, ((0, (-h) % window), (0, (-w) % window)),
                    mode='reflect')
    out = np.ones(padded.shape)
    for y in range(0, padded.shape[0] - window + 1, stride):
        for x in range(0, padded.shape[1] - window + 1, stride):
            patch = padded[y:y + window, x:x + window]
            lo, hi = patch.min(), patch.max()
            if hi == lo:
                out[y:y + window, x:x + window] = 0
                continue
            patch = (patch - lo) / (hi - lo)
            try:
                thr = threshold_multiotsu(patch, classes=3)[0]
            except ValueError:
                out[y:y + window, x:x + window] = 0
                continue
            out[y:y + window, x:x + window] *= patch < thr
    return out[:h, :w] > 0


# --------------------------------------------------------------------------


def timed(fns, items, repeat):
    """Best-of-``repeat`` mean seconds per item of each function.

    The functions are timed in turns within each repetition, so that load
    changes on a shared machine hit all of them alike.
    """
    best = {name: float('inf') for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            for item in items:
                fn(item)
            best[name] = min(best[name],
                             (time.perf_counter() - start) / len(items))
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', default=DEFAULT_IMAGES)
    parser.add_argument('--num-images', type=int, default=4)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--batch-size', type=int, default=1024)
    parser.add_argument('--depths', type=int, nargs='*', default=[18, 50])
    args = parser.parse_args()

    torch.manual_seed(0)
    images = load_images(args.images, args.num_images)
    tensors = [to_tensor(img) for img in images]
    print(f'{platform.processor() or platform.machine()}, '
          f'{os.cpu_count()} CPUs, torch {torch.__version__} '
          f'({torch.get_num_threads()} threads), opencv '
          f'{cv2.__version__} ({cv2.getNumThreads()} threads); '
          f'{len(images)} images 480x320 from {osp.normpath(args.images)}')

    # thresholding branch: identical masks, then timings
    ours_masks = [ours_thresholding(img) for img in images]
    ref_masks = [reference_thresholding(img) for img in images]
    identical = all(np.array_equal(a, b)
                    for a, b in zip(ours_masks, ref_masks))
    gray = [bilateral_filter(img) for img in images]
    idx = list(range(len(images)))
    t = timed(
        dict(ours=lambda i: ours_thresholding(images[i]),
             otsu=lambda i: patch_multiotsu_mask(gray[i])), idx,
        args.repeat + 2)
    t_thr, t_otsu = t['ours'], t['otsu']
    t_thr_ref = timed(dict(ref=reference_thresholding), images, 1)['ref']

    rows = [('thresholding branch', t_thr, t_thr_ref, None),
            ('  of which multi-Otsu + agreement', t_otsu, None, None)]
    for depth in args.depths:
        model = build_classifier(depth)
        windows = [
            extract_windows(t).contiguous(memory_format=torch.channels_last)
            for t in tensors
        ]

        def ours(i, model=model):
            ours_localization(model, tensors[i], args.batch_size)
            ours_thresholding(images[i])

        def ref(i, model=model):
            reference_localization(model, tensors[i])
            reference_thresholding(images[i])

        def floor(i, model=model):
            floor_pass(model, tensors[i], windows[i], args.batch_size)

        ours(0), floor(0)  # warm-up
        t = timed(dict(floor=floor, ours=ours), idx, args.repeat)
        t_floor, t_ours = t['floor'], t['ours']
        t_ref = timed(dict(ref=ref), idx, 1)['ref']
        rows.append((f'ResNet-{depth} localisation+thresholding', t_ours,
                     t_ref, t_floor))
        rows.append((f'  ResNet-{depth} compute floor '
                     f'({len(windows[0])} windows + Grad-CAM++ pass)',
                     t_floor, None, None))

    print()
    header = (f'{"step":<58}{"ours s/img":>11}{"img/s":>8}'
              f'{"ref s/img":>11}{"speed-up":>10}{"ours/floor":>12}')
    print(header)
    print('-' * len(header))
    for name, t, t_ref, t_floor in rows:
        ref_s = f'{t_ref:11.3f}' if t_ref else ' ' * 11
        ratio = f'{t_ref / t:9.1f}x' if t_ref else ' ' * 10
        fl = f'{t / t_floor:11.2f}x' if t_floor else ''
        print(f'{name:<58}{t:11.4f}{1 / t:8.2f}{ref_s}{ratio}{fl}')
    print()
    print(f'thresholding masks identical to the per-window reference: '
          f'{identical}')
    goals = [('thresholding >= 50x the per-window reference, identical '
              'masks', t_thr_ref / t_thr >= 50 and identical)]
    min_rate = {18: 1.5, 50: 0.5}
    for name, t, t_ref, t_floor in rows:
        if t_floor is None:
            continue
        depth = int(name.split('-')[1].split()[0])
        goals.append((f'ResNet-{depth} <= 1.5x the compute floor',
                      t <= 1.5 * t_floor))
        if depth in min_rate:
            goals.append((f'ResNet-{depth} >= {min_rate[depth]} image/s',
                          1 / t >= min_rate[depth]))
    for text, ok in goals:
        print(f'goal: {text}: {"met" if ok else "NOT met"}')


if __name__ == '__main__':
    main()
