"""CrackClassifier: a trained crack-patch classifier ready for labelling.

The one place that loads an mmpretrain crack-patch classifier for the
pseudo-label generators (``PseudoLabelGenerator``, ``CRFLabelGenerator``,
...): config + checkpoint -> eval-mode model on a device, the crack class
index, the training normalisation, logits and the Grad-CAM target layer.

    classifier = CrackClassifier('configs/classifier/x.py', 'x.pth')
    x = classifier.normalise(img_rgb)          # (3, H, W) float32
    logits = classifier.logits(x[None])        # (1, 2)
    layer = classifier.target_module(None)     # last conv stage
"""
import copy
import os.path as osp
from typing import Optional

import numpy as np
import torch

__all__ = ['CrackClassifier', 'cam_target_layer']


def cam_target_layer(model: torch.nn.Module, name: Optional[str]) -> str:
    """The module Grad-CAM(++) explains, as a path in the classifier.

    Args:
        model: the classifier (mmpretrain ``ImageClassifier``).
        name: ``cam.target_layer``; None picks the backbone's last conv
            stage: ``backbone.<backbone.cam_target_layer>`` when the backbone
            names one (mmcrack's EfficientNet-Lite does), else
            ``backbone.layer4`` (ResNet).
    """
    if name is not None:
        return name
    backbone = getattr(model, 'backbone', None)
    return 'backbone.' + getattr(backbone, 'cam_target_layer', 'layer4')


class CrackClassifier:
    """A 2-class crack-patch classifier (mmpretrain) in eval mode.

    Args:
        config_path (str): the classifier's config (mmpretrain
            ``ImageClassifier``). Its ``model.data_preprocessor`` mean / std
            / ``to_rgb`` normalise the inputs — the same as in training.
        checkpoint_path (str): trained weights; exactly 2 classes. The crack
            class index is read from the checkpoint's
            ``dataset_meta['classes']`` (``'crack'``), else 1.
        device (str): ``'cpu'``, ``'cuda'``, ``'cuda:N'``.
        channels_last (bool): run the model in channels-last memory.

    Attributes:
        model: the ``ImageClassifier`` on ``device``, eval mode.
        crack_index (int): index of the crack class in the logits (0 or 1).
        mean, std: float32 (C, 1, 1) tensors on ``device`` (0..255 units).
        to_bgr (bool): the model saw BGR channel order in training.

    Raises:
        FileNotFoundError: a missing config or checkpoint.
        ValueError: not 2 classes, or a checkpoint that does not fit.
    """

    def __init__(self,
                 config_path: str,
                 checkpoint_path: str,
                 device: str = 'cpu',
                 channels_last: bool = False):
        self.config_path = config_path
        self.checkpoint_path = checkpoint_path
        self.device = torch.device(device)
        self.channels_last = bool(channels_last)
        self.model, self.crack_index, mean, std, self.to_bgr = \
            self._load(config_path, checkpoint_path)
        self.mean = torch.tensor(mean, dtype=torch.float32,
                                 device=self.device).view(-1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32,
                                device=self.device).view(-1, 1, 1)

    def _load(self, config_path: str, checkpoint_path: str):
        from mmengine.config import Config
        from mmengine.registry import DefaultScope
        from mmengine.runner import load_checkpoint

        from mmcrack.registry import CLS_MODELS as MODELS

        for path, what in ((config_path, 'config'),
                           (checkpoint_path, 'checkpoint')):
            if not osp.isfile(path):
                raise FileNotFoundError(f'classifier {what} not found: {path}')
        cfg = Config.fromfile(config_path)
        model_cfg = copy.deepcopy(cfg.model)
        num_classes = model_cfg.get('head', {}).get('num_classes')
        if num_classes != 2:
            raise ValueError(f'{config_path}: the classifier must have 2 '
                             f'classes (crack / no crack), its head has '
                             f'{num_classes}')
        for part in ('backbone', 'neck', 'head'):
            if isinstance(model_cfg.get(part), dict):
                model_cfg[part].pop('init_cfg', None)  # weights come below
        # build under mmpretrain's scope without changing the caller's
        # (e.g. an mmseg training run's) default scope
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            model = MODELS.build(model_cfg)
        try:
            ckpt = load_checkpoint(model, checkpoint_path, map_location='cpu',
                                   strict=True, logger='silent')
        except (RuntimeError, KeyError) as e:
            raise ValueError(
                f'{checkpoint_path} does not fit the classifier of '
                f'{config_path} (another architecture or class count?): '
                f'{str(e)[:500]}') from e
        classes = (ckpt.get('meta', {}).get('dataset_meta') or {}).get(
            'classes') if isinstance(ckpt, dict) else None
        crack_index = 1
        if classes is not None:
            if len(classes) != 2 or 'crack' not in classes:
                raise ValueError(f'{checkpoint_path}: classes {classes} are '
                                 "not the 2 classes ('no_crack', 'crack')")
            crack_index = list(classes).index('crack')
        pre = cfg.model.get('data_preprocessor') or cfg.get(
            'data_preprocessor') or {}
        mean = pre.get('mean', [123.675, 116.28, 103.53])
        std = pre.get('std', [58.395, 57.12, 57.375])
        # trained on BGR-loaded images: to_rgb=True means it saw RGB
        to_bgr = not pre.get('to_rgb', pre.get('bgr_to_rgb', False))
        model = model.to(self.device).eval()
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        return model, crack_index, mean, std, to_bgr

    def normalise(self, img_rgb: np.ndarray) -> torch.Tensor:
        """The model's input for an image.

        Args:
            img_rgb: uint8 RGB (H, W, 3).

        Returns:
            float32 (3, H, W) tensor on ``device``: channels in the training
            order, ``(x - mean) / std``.
        """
        img = img_rgb[:, :, ::-1] if self.to_bgr else img_rgb
        tensor = torch.from_numpy(np.ascontiguousarray(img)).to(
            self.device).permute(2, 0, 1).float()
        return (tensor - self.mean) / self.std

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 2) logits of normalised (B, 3, H, W) inputs (``forward_fn``
        of the Grad-CAM functions; no grad-mode change)."""
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.model(x, mode='tensor')

    def target_module(self, name: Optional[str],
                      setting: str = 'cam.target_layer') -> torch.nn.Module:
        """The Grad-CAM target module (:func:`cam_target_layer`).

        Args:
            name: a module path in the classifier, or None for the
                backbone's last conv stage.
            setting: the setting's name, for the error message.

        Raises:
            ValueError: ``name`` is not a module of the classifier.
        """
        layer = cam_target_layer(self.model, name)
        try:
            return self.model.get_submodule(layer)
        except AttributeError as e:
            raise ValueError(f'{setting} {layer!r} is not a module of '
                             f'the classifier in {self.config_path}') from e
