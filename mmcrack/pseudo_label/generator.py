"""PseudoLabelGenerator: a trained crack-patch classifier + an image ->
a crack pseudo-label (paper §III-B/C/D, steps 2-4).

    generator = PseudoLabelGenerator('configs/classifier/x.py', 'x.pth',
                                     device='cpu')
    result = generator(img_rgb)       # uint8 (H, W, 3)
    result.soft   # float32 (H, W) in [0, 1]
    result.label  # uint8 (H, W) in {0, 1}
    result.keep   # label has >= output.min_crack_pixels crack pixels

Each step is a pure function (``localization.py``, ``thresholding.py``);
this class loads the classifier (``crack_classifier.CrackClassifier``) and
composes them:

1. localisation = fuse(patch-classification map, Grad-CAM++ map)
2. threshold mask = bilateral filter + patch-wise multi-Otsu
3. merge = localisation x threshold mask, bilateral filter, closing
4. output = binarised merge (or the soft map), keep flag

All parameters are grouped by step in dicts. Their values are written once,
in the presets ``configs/_base_/pseudo_label/*.py`` (``paper.py`` has every
field); the constructor takes a preset (default ``'paper'``) and overrides
it field by field (:mod:`mmcrack.pseudo_label.presets`).
"""
import copy
import warnings
from dataclasses import dataclass, field
from typing import Dict, Optional

import cv2
import numpy as np
import torch

from mmcrack.registry import TASK_UTILS
from mmcrack.utils.file_io import file_sha256

from .crack_classifier import (
    CrackClassifier,
    cam_target_layer,  # noqa: F401 (re-export)
)
from .label_output import LabelOutput
from .localization import (
    fuse_localization,
    grad_cam_plus_plus,
    patch_probability_map,
    upsample_map,
)
from .localization_cache import LocalizationCache
from .presets import load_preset, merge_settings
from .thresholding import bilateral_filter, threshold_map


@dataclass
class PseudoLabel:
    """Output of :class:`PseudoLabelGenerator` for one image.

    Attributes:
        soft: float32 (H, W) in [0, 1], the merged map after closing.
        label: uint8 (H, W) in {0, 1} (``soft > 0`` when
            ``output.binarize`` is False).
        keep: the keep rule of the ``output`` settings
            (:meth:`LabelOutput.keep`).
        stages: with ``return_stages``, float32 (H, W) maps ``patch``,
            ``cam``, ``localization``, ``threshold``, ``merged``.
    """
    soft: np.ndarray
    label: np.ndarray
    keep: bool
    stages: Dict[str, np.ndarray] = field(default_factory=dict)


def as_rgb_uint8(img: np.ndarray, name: str = 'image') -> np.ndarray:
    """Bring grey, RGBA and 16-bit images to uint8 RGB (H, W, 3), warning.

    Args:
        img: (H, W), (H, W, 3) RGB or (H, W, 4) RGBA; uint8 or uint16
            (float in [0, 1] is also accepted).
        name: used in warnings and errors.
    """
    if img.dtype == np.uint16:
        warnings.warn(f'{name}: 16-bit image scaled to 8 bit')
        img = (img.astype(np.float64) / 257.0).round().astype(np.uint8)
    elif img.dtype in (np.float32, np.float64):
        if img.min(initial=0) < 0 or img.max(initial=0) > 1:
            raise ValueError(f'{name}: float image values must be in [0, 1]')
        img = (img * 255).round().astype(np.uint8)
    elif img.dtype != np.uint8:
        raise TypeError(f'{name}: unsupported image dtype {img.dtype}')
    if img.ndim == 2:
        warnings.warn(f'{name}: grey image converted to RGB')
        img = np.repeat(img[:, :, None], 3, axis=2)
    elif img.ndim == 3 and img.shape[2] == 4:
        warnings.warn(f'{name}: alpha channel dropped')
        img = img[:, :, :3]
    elif img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'{name}: expected an (H, W, 3) image, got shape '
                         f'{img.shape}')
    return np.ascontiguousarray(img)


def merge_maps(localization: np.ndarray, threshold_mask: np.ndarray,
               bilateral: bool = True, d: int = 2, sigma_color: float = 120.0,
               sigma_space: float = 120.0, closing_size: int = 3,
               closing_iters: int = 1) -> np.ndarray:
    """Step 4: product, bilateral filter, grey closing.

    Args:
        localization: float (H, W) in [0, 1].
        threshold_mask: bool/0-1 (H, W).

    Returns:
        float32 (H, W) in [0, 1] (computed on uint8 0..255 as the published
        code, then divided by 255).
    """
    product = np.round(localization * threshold_mask * 255).astype(np.uint8)
    if bilateral:
        product = bilateral_filter(product, d, sigma_color, sigma_space)
    if closing_iters > 0 and closing_size > 1:
        kernel = np.ones((closing_size, closing_size), np.uint8)
        product = cv2.morphologyEx(product, cv2.MORPH_CLOSE, kernel,
                                   iterations=closing_iters)
    return product.astype(np.float32) / 255.0


@TASK_UTILS.register_module()
class PseudoLabelGenerator:
    """Pseudo-labels from a crack-patch classifier (mmpretrain).

    Args:
        classifier_config (str): the classifier's config (mmpretrain
            ``ImageClassifier``). Its ``model.data_preprocessor`` mean / std
            / ``to_rgb`` normalise the inputs — the same as in training.
        classifier_checkpoint (str): trained weights; exactly 2 classes.
            The crack class index is read from the checkpoint's
            ``dataset_meta['classes']`` (``'crack'``), else 1.
        device (str): ``'cpu'``, ``'cuda'``, ``'cuda:N'``.
        preset (str): the preset that gives every setting its default: a
            name under ``configs/_base_/pseudo_label/`` or a config file.
        patch, cam, fusion, threshold, merge, output (dict): settings per
            step, merged field by field into the preset's.
        tile_size (int or (int, int), optional): images with a side larger
            than ``size`` are processed in tiles of at most ``size`` px. An
            int: independent, abutting tiles (the paper's advice; each tile
            normalises its own Grad-CAM, so labels can change abruptly at a
            tile border). ``(size, overlap)``: tiles overlapping by at least
            ``overlap`` px, every map blended with weights that fall to near
            0 at each tile border (:mod:`mmcrack.apis.tiled_prediction`; no
            jumps at tile borders, docs/large_images.md); ``size`` at least
            ``max(patch.size, threshold.window)``.
        channels_last (bool): run the classifier in channels-last memory.
        localization_cache (str, optional): a folder that keeps the window
            map and Grad-CAM++ of every image localised
            (:class:`LocalizationCache`): labelling the same images again
            with other fusion / threshold / merge / output settings skips
            the classifier, and gives the same labels. Not a setting: the
            labels do not depend on it.
    """

    def __init__(self,
                 classifier_config: str,
                 classifier_checkpoint: str,
                 device: str = 'cpu',
                 preset: str = 'paper',
                 localization_cache: Optional[str] = None,
                 **settings):
        self.settings_ = merge_settings(load_preset(preset), settings)
        #: label format and keep rule (the ``output`` settings)
        self.output = LabelOutput.from_settings(self.settings_['output'])
        #: the classifier: model, normalisation, logits, Grad-CAM target
        self.classifier = CrackClassifier(
            classifier_config, classifier_checkpoint, device,
            self.settings_['channels_last'])
        c = self.classifier
        self.checkpoint_path = c.checkpoint_path
        self.config_path = c.config_path
        self.device = c.device
        self.model = c.model
        self.crack_index = c.crack_index
        self.mean, self.std, self.to_bgr = c.mean, c.std, c.to_bgr
        self.target_layer = c.target_module(
            self.settings_['cam']['target_layer'])
        #: the window / Grad-CAM++ maps kept on disk (None: not kept)
        self.localization_cache = None if localization_cache is None else \
            LocalizationCache(localization_cache,
                              file_sha256(c.checkpoint_path), self.settings_,
                              self.device.type)

    def settings(self) -> dict:
        """All step settings (JSON-serialisable), e.g. for cache keys."""
        return copy.deepcopy(self.settings_)

    # -- steps -------------------------------------------------------------
    def _normalise(self, img_rgb: np.ndarray) -> torch.Tensor:
        return self.classifier.normalise(img_rgb)

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier.logits(x)

    def _localization(self, img_rgb: np.ndarray, stages: Optional[dict]):
        cache = self.localization_cache
        maps = cache.load(img_rgb) if cache is not None else None
        if maps is None:
            maps = self._classifier_maps(img_rgb)
            if cache is not None:
                cache.save(img_rgb, *maps)
        patch, cam = maps
        fused = fuse_localization(patch, cam, **self.settings_['fusion'])
        if stages is not None:
            stages.update(patch=patch, cam=cam, localization=fused)
        return fused

    def _classifier_maps(self, img_rgb: np.ndarray):
        """Window map and Grad-CAM++ (float (H, W) in [0, 1]) of a tile."""
        s = self.settings_
        h, w = img_rgb.shape[:2]
        x = self._normalise(img_rgb)
        with torch.no_grad():
            patch = patch_probability_map(
                self._logits, x, s['patch']['size'], s['patch']['stride'],
                s['patch']['batch_size'], s['patch']['mode'],
                self.crack_index, s['patch']['resize'],
                s['patch']['quantize'], s['channels_last'])
        cls = s['cam']['class_index']
        if cls not in ('crack', 'argmax'):
            raise ValueError(f"cam.class_index must be 'crack' or 'argmax', "
                             f'got {cls!r}')
        cam = grad_cam_plus_plus(
            self.model, self.target_layer, x[None],
            self.crack_index if cls == 'crack' else None,
            forward_fn=self._logits, normalize=s['cam']['normalize'])[0]
        cam = upsample_map(cam.float().cpu().numpy(), (h, w),
                           s['cam']['resize'], s['cam']['quantize'])
        return patch, cam

    def _tile(self, img_rgb: np.ndarray, stages: Optional[dict]) -> np.ndarray:
        """Merged map (H, W) float32 of one tile."""
        s = self.settings_
        loc = self._localization(img_rgb, stages)
        mask = threshold_map(img_rgb, **s['threshold'])
        merged = merge_maps(loc, mask, **s['merge'])
        if stages is not None:
            stages.update(threshold=mask.astype(np.float32), merged=merged)
        return merged

    def _blended_tiles(self, img: np.ndarray, tile: int, overlap: int,
                       min_side: int, stages: Optional[dict]) -> np.ndarray:
        """Merged map (H, W) float32 of overlapping tiles, blended; the
        stages blended alike into ``stages``."""
        from mmcrack.apis.tiled_prediction import predict_tiled_maps
        if tile < min_side:
            raise ValueError(f'tile_size {tile} is smaller than the patch / '
                             f'threshold window ({min_side} px)')

        def predict(part):
            part_stages = {} if stages is not None else None
            merged = self._tile(part, part_stages)
            return dict(part_stages or {}, soft=merged)

        maps = predict_tiled_maps(predict, img, tile, overlap)
        soft = maps.pop('soft')
        if stages is not None:
            stages.update(maps)
        return soft

    def __call__(self, img: np.ndarray, return_stages: bool = False,
                 name: str = 'image') -> PseudoLabel:
        """Pseudo-label of one image.

        Args:
            img: uint8 RGB (H, W, 3); grey, RGBA and 16-bit images are
                converted with a warning. Images smaller than a window are
                reflect-padded and the result cropped back.
            return_stages: also return every intermediate map.
            name: used in warnings.
        """
        img = as_rgb_uint8(img, name)
        h, w = img.shape[:2]
        s = self.settings_
        min_side = max(s['patch']['size'], s['threshold']['window'])
        ph, pw = max(0, min_side - h), max(0, min_side - w)
        if ph or pw:
            img = cv2.copyMakeBorder(img, 0, ph, 0, pw,
                                     cv2.BORDER_REFLECT_101 if min(h, w) > 1
                                     else cv2.BORDER_REPLICATE)
        stages = {} if return_stages else None
        tile, overlap = s['tile_size'], None
        if isinstance(tile, (list, tuple)):  # (size, overlap): blended
            tile, overlap = (int(v) for v in tile)
        H, W = img.shape[:2]
        if tile is None or (H <= tile and W <= tile):
            soft = self._tile(img, stages)
        elif overlap is not None:
            soft = self._blended_tiles(img, tile, overlap, min_side, stages)
        else:
            soft = np.zeros((H, W), np.float32)
            tile_stages = {} if return_stages else None
            for y in range(0, H, tile):
                for x in range(0, W, tile):
                    y1, x1 = min(y + tile, H), min(x + tile, W)
                    y0, x0 = max(0, min(y, y1 - min_side)), max(
                        0, min(x, x1 - min_side))
                    part = self._tile(img[y0:y1, x0:x1], tile_stages)
                    soft[y:y1, x:x1] = part[y - y0:, x - x0:]
                    if return_stages:
                        for k, v in tile_stages.items():
                            stages.setdefault(k, np.zeros(
                                (H, W), np.float32))[y:y1, x:x1] = \
                                v[y - y0:, x - x0:]
        soft = soft[:h, :w]
        if stages is not None:
            stages = {k: v[:h, :w] for k, v in stages.items()}
        label = self.output.label(soft)
        keep = self.output.keep(int(label.sum()))
        return PseudoLabel(soft=soft, label=label, keep=keep,
                           stages=stages or {})
