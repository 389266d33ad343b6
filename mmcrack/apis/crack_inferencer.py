"""CrackInferencer: crack probability maps, masks and overlays from a
trained segmentation model (in the style of mmseg's ``MMSegInferencer``).

    from mmcrack.apis import CrackInferencer
    inferencer = CrackInferencer('configs/.../x.py', 'work_dirs/x/iter_4.pth')
    results = inferencer('photo.jpg', out_dir='out')   # or a folder / arrays
    results[0]['prob']   # float32 (H, W) in [0, 1]
    results[0]['mask']   # uint8 (H, W) in {0, 1}
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope
from mmengine.utils import ProgressBar

from mmcrack.evaluation.functional import seg_logits_to_prob
from mmcrack.utils.file_io import (
    IMG_EXTENSIONS,
    atomic_write_image,
    list_stems,
    read_image,
)

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
    """Paint ``mask`` (H, W, 0/1) on an RGB uint8 image."""
    out = img_rgb.astype(np.float32)
    sel = mask.astype(bool)
    out[sel] = (1 - alpha) * out[sel] + alpha * np.asarray(color, np.float32)
    return out.astype(np.uint8)


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
        slide (tuple, optional): ``(crop, stride)`` in pixels: sliding-window
            inference for images larger than the model was trained on.
    """

    def __init__(self,
                 config: str,
                 checkpoint: str,
                 device: Optional[str] = None,
                 threshold: Optional[float] = None,
                 slide: Optional[Tuple[int, int]] = None):
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
    def predict(self, img_rgb: np.ndarray) -> np.ndarray:
        """Crack probability (H, W) float32 in [0, 1] of an RGB uint8
        image."""
        data = self.pipeline(
            dict(img=np.ascontiguousarray(img_rgb[..., ::-1])))
        batch = dict(inputs=[data['inputs']],
                     data_samples=[data['data_samples']])
        result = self.model.test_step(batch)[0]
        return seg_logits_to_prob(result.seg_logits.data)

    def __call__(self,
                 inputs: Union[ImageInput, Sequence[ImageInput]],
                 out_dir: Optional[str] = None,
                 show_progress: bool = True) -> List[Dict]:
        """Predict each image; with ``out_dir`` also write
        ``prob/<stem>.png`` (0-255), ``mask/<stem>.png`` (0/255) and
        ``overlay/<stem>.jpg``.

        Returns:
            one dict per image: ``name``, ``prob`` (float32 (H, W) in [0, 1]),
            ``mask`` (uint8 (H, W) in {0, 1}).
        """
        items = self._collect(inputs)
        bar = ProgressBar(len(items)) if show_progress else None
        results = []
        for name, item in items:
            img = read_image(item, 'color') if isinstance(item, str) else item
            if img.ndim == 2:
                img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
            prob = self.predict(img)
            mask = (prob >= self.threshold).astype(np.uint8)
            if out_dir is not None:
                atomic_write_image(
                    osp.join(out_dir, 'prob', name + '.png'),
                    np.round(prob * 255).astype(np.uint8))
                atomic_write_image(osp.join(out_dir, 'mask', name + '.png'),
                                   mask * 255)
                atomic_write_image(
                    osp.join(out_dir, 'overlay', name + '.jpg'),
                    overlay(img, mask))
            results.append(dict(name=name, prob=prob, mask=mask))
            if bar is not None:
                bar.update()
        return results
