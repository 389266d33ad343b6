"""Synthetic crack images with exact masks — mmcrack's embedded default data.

Each image is built from a seed alone:

* background: grey concrete/asphalt-like texture (multi-scale smoothed noise
  plus fine grain), a colour tint, and uneven illumination (a linear ramp and
  an off-centre vignette);
* cracks: thin dark random-walk polylines, width 1–5 px, with branches and a
  contrast that varies from crack to crack; the mask is exactly the drawn
  pixels;
* distractors that are dark but not cracks: stains (soft blobs), pebbles
  (small dark discs with bright rims) and cast shadows (soft half-planes);
* some images have no crack at all.

Global thresholding fails on these images (shadows and the illumination
ramp are darker than faint cracks), which is what the patch-wise method is
for; ``tests/test_synthetic.py`` keeps that true.

Everything is deterministic for ``(seed, index)``: image ``i`` of a set does
not depend on how many images the set has.
"""
import os
import os.path as osp
import zlib
from dataclasses import dataclass
from typing import Dict, Tuple

import cv2
import numpy as np

from mmcrack.utils.file_io import atomic_write_image


@dataclass
class SyntheticCrackConfig:
    """Parameters of the generator (defaults = the embedded default set)."""
    height: int = 256
    width: int = 256
    crack_free_prob: float = 0.15  # share of images without any crack
    max_cracks: int = 3
    crack_width: Tuple[int, int] = (1, 5)  # px, inclusive
    crack_contrast: Tuple[float, float] = (25.0, 70.0)  # grey levels darker
    crack_length: Tuple[int, int] = (80, 260)  # px along the path
    branch_prob: float = 0.5
    background_level: Tuple[float, float] = (105.0, 165.0)
    texture_amplitude: Tuple[float, float] = (8.0, 20.0)
    illumination_amplitude: Tuple[float, float] = (25.0, 60.0)
    num_stains: Tuple[int, int] = (0, 3)
    num_pebbles: Tuple[int, int] = (5, 30)
    shadow_prob: float = 0.5
    noise_sigma: Tuple[float, float] = (2.0, 5.0)


def _smooth_noise(rng, shape, scale):
    """Gaussian-smoothed unit-variance noise with features ~``scale`` px."""
    h, w = shape
    small = rng.standard_normal(
        (max(2, h // scale + 2), max(2, w // scale + 2)))
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return big / (big.std() + 1e-8)


def _background(rng, cfg: SyntheticCrackConfig) -> np.ndarray:
    h, w = cfg.height, cfg.width
    level = rng.uniform(*cfg.background_level)
    amp = rng.uniform(*cfg.texture_amplitude)
    tex = sum(_smooth_noise(rng, (h, w), s) * a
              for s, a in ((32, 0.5), (8, 0.35), (2, 0.5)))
    grain = rng.standard_normal((h, w)) * 0.6
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * (xx / w - 0.5) + np.sin(angle) * (yy / h - 0.5))
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    vignette = -((yy - cy)**2 + (xx - cx)**2) / float(h * h + w * w)
    illum = rng.uniform(*cfg.illumination_amplitude)
    grey = level + amp * (tex + grain) + illum * (ramp + 1.5 * vignette)
    return grey


def _random_walk(rng, cfg, start, angle, length):
    """Polyline points (N, 2) as (x, y) following a smooth random walk."""
    pts = [np.asarray(start, dtype=np.float64)]
    turn = 0.0
    travelled = 0.0
    while travelled < length:
        step = rng.uniform(2, 6)
        turn = 0.85 * turn + rng.normal(0, 0.06)  # slow bending
        angle += turn
        jag = angle + rng.normal(0, 0.45)  # step-to-step zig-zag
        nxt = pts[-1] + step * np.array([np.cos(jag), np.sin(jag)])
        pts.append(nxt)
        travelled += step
    return np.stack(pts)


def _draw_cracks(rng, cfg: SyntheticCrackConfig, grey: np.ndarray):
    h, w = grey.shape
    mask = np.zeros((h, w), np.uint8)
    darkening = np.zeros((h, w), np.float64)
    n = 0 if rng.random() < cfg.crack_free_prob else rng.integers(
        1, cfg.max_cracks + 1)
    for _ in range(n):
        contrast = rng.uniform(*cfg.crack_contrast)
        width = int(rng.integers(cfg.crack_width[0], cfg.crack_width[1] + 1))
        start = (rng.uniform(0, w), rng.uniform(0, h))
        path = _random_walk(rng, cfg, start, rng.uniform(0, 2 * np.pi),
                            rng.uniform(*cfg.crack_length))
        paths = [(path, width)]
        if rng.random() < cfg.branch_prob and len(path) > 4:
            k = int(rng.integers(1, len(path) - 1))
            d = path[k] - path[k - 1]
            base = np.arctan2(d[1], d[0])
            side = rng.choice([-1.0, 1.0])
            branch = _random_walk(rng, cfg, path[k],
                                  base + side * rng.uniform(0.5, 1.1),
                                  rng.uniform(0.3, 0.6) * cfg.crack_length[1])
            paths.append((branch, max(1, width - 1)))
        for pts, wid in paths:
            layer = np.zeros((h, w), np.uint8)
            cv2.polylines(layer, [np.round(pts).astype(np.int32)], False, 1,
                          thickness=wid, lineType=cv2.LINE_8)
            mask |= layer
            darkening = np.maximum(darkening, layer * contrast)
    # crack interiors are darkest in the middle: soften the profile slightly
    soft = cv2.GaussianBlur(darkening, (3, 3), 0.6)
    darkening = np.where(mask > 0, np.maximum(soft, 0.6 * darkening), soft)
    return grey - darkening, mask


def _draw_distractors(rng, cfg: SyntheticCrackConfig, grey: np.ndarray):
    h, w = grey.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    for _ in range(int(rng.integers(cfg.num_stains[0],
                                    cfg.num_stains[1] + 1))):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        sy, sx = rng.uniform(6, 30), rng.uniform(6, 30)
        blob = np.exp(-0.5 * (((yy - cy) / sy)**2 + ((xx - cx) / sx)**2))
        grey = grey - rng.uniform(20, 55) * blob
    for _ in range(int(rng.integers(cfg.num_pebbles[0],
                                    cfg.num_pebbles[1] + 1))):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        r = rng.uniform(1.5, 5.0)
        d2 = (yy - cy)**2 + (xx - cx)**2
        grey = grey - rng.uniform(25, 60) * (d2 <= r * r)
        ring = (d2 > r * r) & (d2 <= (r + 1.5)**2)
        grey = grey + rng.uniform(5, 20) * ring
    if rng.random() < cfg.shadow_prob:
        angle = rng.uniform(0, 2 * np.pi)
        offset = rng.uniform(-0.3, 0.3)
        dist = (np.cos(angle) * (xx / w - 0.5) + np.sin(angle) *
                (yy / h - 0.5) - offset)
        edge = rng.uniform(0.01, 0.05)
        shadow = 1.0 / (1.0 + np.exp(-dist / edge))
        grey = grey - rng.uniform(30, 60) * shadow
    return grey


def make_synthetic_sample(seed: int,
                          index: int,
                          cfg: SyntheticCrackConfig = SyntheticCrackConfig(),
                          stream: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """One synthetic image and its exact mask.

    Args:
        seed: seed of the whole set.
        index: index of the image in the set (images are independent).
        cfg: generator parameters.
        stream: separates sets drawn from one seed (e.g. the splits).

    Returns:
        ``(image, mask)``: uint8 RGB (H, W, 3) and uint8 (H, W) in {0, 1}.
    """
    rng = np.random.default_rng([int(seed), int(stream), int(index)])
    grey = _background(rng, cfg)
    grey, mask = _draw_cracks(rng, cfg, grey)
    grey = _draw_distractors(rng, cfg, grey)
    tint = rng.uniform(0.95, 1.05, size=3)
    noise = rng.normal(0, rng.uniform(*cfg.noise_sigma),
                       size=grey.shape + (3, ))
    rgb = grey[..., None] * tint[None, None, :] + noise
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8), mask


DEFAULT_SPLITS = {'train': 120, 'val': 8, 'test': 40}


def write_synthetic_dataset(out_dir: str,
                            seed: int = 0,
                            splits: Dict[str, int] = DEFAULT_SPLITS,
                            cfg: SyntheticCrackConfig = SyntheticCrackConfig(),
                            overwrite: bool = False) -> Dict[str, int]:
    """Write a synthetic set in the shared layout.

    ``out_dir/images/<split>/<split>_<i>.png`` (RGB) and
    ``out_dir/masks/<split>/<split>_<i>.png`` (0/255). Image ``i`` of split
    ``s`` is drawn from ``(seed, crc32(s), i)``, so splits never share
    images and a split does not depend on the others. Files are written
    atomically; existing files are kept unless
    ``overwrite`` (so an interrupted run can be resumed).

    Returns:
        number of images per split.
    """
    for split, count in splits.items():
        img_dir = osp.join(out_dir, 'images', split)
        mask_dir = osp.join(out_dir, 'masks', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(mask_dir, exist_ok=True)
        for i in range(count):
            name = f'{split}_{i:04d}.png'
            img_path = osp.join(img_dir, name)
            mask_path = osp.join(mask_dir, name)
            if not overwrite and osp.exists(img_path) and \
                    osp.exists(mask_path):
                continue
            img, mask = make_synthetic_sample(seed, i, cfg,
                                              zlib.crc32(split.encode()))
            atomic_write_image(mask_path, mask * 255)
            atomic_write_image(img_path, img)
    return dict(splits)
