"""CrackInferencer: crack probability maps, masks and overlays from a
trained segmentation model (in the style of mmseg's ``MMSegInferencer``).

    from mmcrack.apis import CrackInferencer
    inferencer = CrackInferencer('configs/.../x.py', 'work_dirs/x/iter_4.pth')
    results = inferencer('photo.jpg', out_dir='out')   # or a folder / arrays
    results[0]['prob']   # float32 (H, W) in [0, 1]
    results[0]['mask']   # uint8 (H, W) in {0, 1}

Images with a side larger than ``tile`` (default 1024 px) are predicted in
overlapping tiles blended without seams (:mod:`.tiled_prediction`), so
memory stays the model's activations for one tile plus the float32
probability map of the image (docs/large_images.md).
"""
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmengine.dataset import Compose
from mmengine.logging import print_log
from mmengine.registry import DefaultScope
from mmengine.utils import ProgressBar

from mmcrack.evaluation.functional import seg_logits_to_prob
from mmcrack.utils.file_io import (
    IMG_EXTENSIONS,
    atomic_write_image,
    list_stems,
    read_image,
)

from .tiled_prediction import TileGrid, predict_tiled

ImageInput = Union[str, np.ndarray]


def threshold_from_checkpoint(checkpoint: dict) -> Optional[float]:
    """The latest validation ODS threshold stored in an mmengine checkpoint.

    ``CrackMetric`` reports ``ODS_thr``; mmengine's ``RuntimeInfoHook``
    keeps validation metrics in the message hub, which checkpoints save.
    Returns None when the checkpoint holds none.
    """
    hub = checkpoint.get('message_hub') or {}
    scalars = hub.get('log_scalars', {}) if isinstance(hub, dict) else {}
    for key in sorted(scalars):
        if key.startswith('val/') and key.endswith('ODS_thr'):
            value = scalars[key]
            value = value.current() if hasattr(value, 'current') else value
            return float(value)
    return None


def overlay(img_rgb: np.ndarray, mask: np.ndarray,
            color=(255, 0, 0), alpha: float = 0.6) -> np.ndarray:
    """Paint ``mask`` on an RGB image.

    Args:
        img_rgb: uint8 (H, W, 3).
        mask: (H, W), crack where nonzero.
        color: RGB paint, 0..255.
        alpha: paint opacity in [0, 1].

    Returns:
        uint8 (H, W, 3); only the masked pixels are computed (in float32),
        so a large photo needs no float copy.
    """
    out = img_rgb.copy()
    sel = mask.astype(bool)
    out[sel] = ((1 - alpha) * img_rgb[sel].astype(np.float32) +
                alpha * np.asarray(color, np.float32)).astype(np.uint8)
    return out


def prob_to_uint8(prob: np.ndarray, rows: int = 512) -> np.ndarray:
    """``round(prob * 255)`` as uint8, a block of rows at a time (no float
    copy of a large map).

    Args:
        prob: float (H, W) in [0, 1].
        rows: rows per block.

    Returns:
        uint8 (H, W) in 0..255.
    """
    out = np.empty(prob.shape, np.uint8)
    for y in range(0, prob.shape[0], rows):
        out[y:y + rows] = np.round(prob[y:y + rows] * 255)
    return out


class CrackInferencer:
    """Run a crack segmentation model on images.

    Args:
        config (str): segmentation config file.
        checkpoint (str): trained weights (mmengine checkpoint).
        device (str, optional): ``'cpu'``, ``'cuda'``, ``'cuda:1'``...;
            default CUDA when available.
        threshold (float, optional): crack when probability >= threshold.
            Default: the ODS threshold stored with the checkpoint's
            validation, else 0.5.
        slide (tuple, optional): ``(crop, stride)`` in pixels: mmseg's
            sliding-window test mode (the whole image and its logits stay on
            the device; inside each tile when tiling).
        tile (int, optional): images with a side larger than ``tile``
            pixels are predicted in overlapping tiles of at most
            ``tile x tile`` pixels, blended with weights that fall to near 0
            at each tile border (``tile_prediction``); smaller images
            are predicted whole, exactly as without tiling. Default 1024;
            None or 0: always whole images.
        overlap (int): pixels shared by neighbouring tiles at least, in
            ``[0, tile)``; default 64.
        tile_align (int, optional): tile starts are multiples of this
            (keeps the network's downsampling phase); default the model's
            ``data_preprocessor.size_divisor`` (32 for mmcrack's U-Net),
            else 1.
    """

    def __init__(self,
                 config: str,
                 checkpoint: str,
                 device: Optional[str] = None,
                 threshold: Optional[float] = None,
                 slide: Optional[Tuple[int, int]] = None,
                 tile: Optional[int] = 1024,
                 overlap: int = 64,
                 tile_align: Optional[int] = None):
        from mmengine.config import Config
        from mmengine.runner.checkpoint import _load_checkpoint
        from mmseg.apis import init_model

        import mmcrack  # noqa: F401  (registers modules)
        cfg = Config.fromfile(config)
        if slide is not None:
            crop, stride = slide
            cfg.model.test_cfg = dict(mode='slide', crop_size=(crop, crop),
                                      stride=(stride, stride))
        if device is None:
            device = 'cuda' if torch.cuda.is_available() else 'cpu'
        # mmseg's init_model sets the global default scope: keep the caller's
        with DefaultScope.overwrite_default_scope(
                cfg.get('default_scope', 'mmseg')):
            self.model = init_model(cfg, checkpoint, device=device)
            self.pipeline = Compose(self._test_pipeline(cfg))
        if threshold is None:
            threshold = threshold_from_checkpoint(
                _load_checkpoint(checkpoint, map_location='cpu'))
            self.threshold_source = ('checkpoint ODS' if threshold
                                     else 'default')
        else:
            self.threshold_source = 'given'
        self.threshold = 0.5 if threshold is None else float(threshold)
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f'threshold must be in (0, 1), got {threshold}')
        if tile_align is None:
            pre = cfg.model.get('data_preprocessor') or {}
            tile_align = (pre.get('test_cfg') or {}).get(
                'size_divisor', pre.get('size_divisor')) or 1
        self.tile = int(tile) if tile else None
        self.overlap = int(overlap)
        self.tile_align = int(tile_align)
        if self.tile is not None:  # check the sizes now, not on an image
            TileGrid(self.tile + 1, self.tile + 1, self.tile, self.overlap,
                     self.tile_align)

    @staticmethod
    def _test_pipeline(cfg) -> List[dict]:
        steps = []
        for step in cfg.test_dataloader.dataset.pipeline:
            kind = step['type'].split('.')[-1]
            if 'Annotation' in kind:
                continue  # no ground truth at inference
            if kind == 'LoadImageFromFile':
                step = dict(type='LoadImageFromNDArray')
            steps.append(step)
        return steps

    @staticmethod
    def _collect(inputs) -> List[Tuple[str, ImageInput]]:
        if isinstance(inputs, np.ndarray):
            return [('image_0000', inputs)]
        if isinstance(inputs, str):
            if osp.isdir(inputs):
                files = list_stems(inputs, IMG_EXTENSIONS)
                if not files:
                    raise ValueError(f'no images ({", ".join(IMG_EXTENSIONS)})'
                                     f' in {inputs}')
                return sorted(files.items())
            return [(osp.splitext(osp.basename(inputs))[0], inputs)]
        items = []
        for i, item in enumerate(inputs):
            name = (osp.splitext(osp.basename(item))[0]
                    if isinstance(item, str) else f'image_{i:04d}')
            items.append((name, item))
        return items

    @torch.no_grad()
    def predict_whole(self, img_rgb: np.ndarray) -> np.ndarray:
        """Crack probability of an image in one forward pass (no tiling).

        Args:
            img_rgb: uint8 RGB (H, W, 3).

        Returns:
            float32 (H, W) in [0, 1].
        """
        data = self.pipeline(
            dict(img=np.ascontiguousarray(img_rgb[..., ::-1])))
        batch = dict(inputs=[data['inputs']],
                     data_samples=[data['data_samples']])
        result = self.model.test_step(batch)[0]
        return seg_logits_to_prob(result.seg_logits.data)

    def num_tiles(self, height: int, width: int) -> int:
        """Tiles :meth:`predict` uses for an image of this size (1: whole).

        Args:
            height, width: image size in pixels, >= 1.
        """
        if self.tile is None or max(height, width) <= self.tile:
            return 1
        return len(TileGrid(height, width, self.tile, self.overlap,
                            self.tile_align))

    def predict(self, img_rgb: np.ndarray,
                progress=None) -> np.ndarray:
        """Crack probability of an image, in blended tiles when a side is
        larger than ``tile`` (else one forward pass).

        Args:
            img_rgb: uint8 RGB (H, W, 3).
            progress: with tiles, called as ``progress(done, total)`` after
                each tile.

        Returns:
            float32 (H, W) in [0, 1].
        """
        h, w = img_rgb.shape[:2]
        if self.num_tiles(h, w) == 1:
            return self.predict_whole(img_rgb)
        return predict_tiled(self.predict_whole, img_rgb, self.tile,
                             self.overlap, self.tile_align, progress)

    def __call__(self,
                 inputs: Union[ImageInput, Sequence[ImageInput]],
                 out_dir: Optional[str] = None,
                 show_progress: bool = True,
                 return_maps: bool = True) -> List[Dict]:
        """Predict each image; with ``out_dir`` also write
        ``prob/<stem>.png`` (0-255), ``mask/<stem>.png`` (0/255) and
        ``overlay/<stem>.jpg``.

        Args:
            inputs: an image file, a folder of images, an RGB uint8 array
                (H, W, 3) (grey (H, W) is converted), or a list of these.
            out_dir: output folder, or None to write nothing.
            show_progress: a progress bar over the images and, for tiled
                images, about ten lines ``<stem>: tile k/n`` per image.
            return_maps: False keeps only ``name`` and ``shape`` in the
                results (a folder of large photos then does not pile up
                maps in memory).

        Returns:
            one dict per image: ``name``, ``shape`` ((H, W)), ``prob``
            (float32 (H, W) in [0, 1]), ``mask`` (uint8 (H, W) in {0, 1}).
        """
        items = self._collect(inputs)
        bar = ProgressBar(len(items)) if show_progress else None
        results = []
        for name, item in items:
            img = read_image(item, 'color') if isinstance(item, str) else item
            if img.ndim == 2:
                img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
            progress = (self._tile_progress(name, bar is not None)
                        if show_progress else None)
            prob = self.predict(img, progress)
            mask = (prob >= self.threshold).astype(np.uint8)
            if out_dir is not None:
                atomic_write_image(
                    osp.join(out_dir, 'prob', name + '.png'),
                    prob_to_uint8(prob))
                atomic_write_image(osp.join(out_dir, 'mask', name + '.png'),
                                   mask * 255)
                atomic_write_image(
                    osp.join(out_dir, 'overlay', name + '.jpg'),
                    overlay(img, mask))
            result = dict(name=name, shape=prob.shape)
            if return_maps:
                result.update(prob=prob, mask=mask)
            results.append(result)
            del prob, mask
            if bar is not None:
                bar.update()
        return results

    @staticmethod
    def _tile_progress(name: str, after_bar: bool, lines: int = 10):
        """``progress(done, total)`` printing ``<name>: tile done/total``
        about ``lines`` times per image (every ``ceil(total / lines)``
        tiles and the last)."""
        def progress(done: int, total: int) -> None:
            every = math.ceil(total / lines)
            if done % every and done != total:
                return
            lead = '\n' if after_bar and done == every else ''
            print_log(f'{lead}{name}: tile {done}/{total}')
        return progress
