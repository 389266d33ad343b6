"""CRFLabelGenerator: the "CRF labels" comparison method (Dong et al.).

A trained crack-patch classifier + an image -> a binary crack label:

1. ``cam``: plain Grad-CAM (:func:`~.localization.grad_cam`) of the crack
   class at the classifier's last conv stage, on the whole image,
   normalised to [0, 1] and upsampled to the image size
   (:func:`~.localization.upsample_map`);
2. ``crf``: the map is the crack probability of a 2-label dense CRF on the
   RGB image (:func:`~.dense_crf.dense_crf`); its posterior P(crack) is the
   soft map;
3. ``output``: :class:`~.label_output.LabelOutput` (binary label
   ``posterior >= threshold``, 0.5 by default, and the ``min_crack_pixels``
   keep rule).

    generator = CRFLabelGenerator('configs/classifier/x.py', 'x.pth')
    result = generator(img_rgb, return_stages=True)
    result.label            # uint8 (H, W) in {0, 1}
    result.stages['cam']    # float32 (H, W) in [0, 1]

The settings are grouped by step (``cam``, ``crf``, ``output``); their
values are written once, in ``configs/_base_/pseudo_label/crf.py`` (the
default ``preset``). The generator has the contract of
:class:`~.generator.PseudoLabelGenerator` (``output``,
``checkpoint_path``, ``settings()``, ``__call__``), so
``tools/generate_pseudo_labels.py --preset crf`` and ``PseudoLabelHook``
use it unchanged. :meth:`CRFLabelGenerator.cam` and
:meth:`CRFLabelGenerator.refine` are the two steps on their own, for the
CRF grid search (:mod:`.crf_search`), which computes the CAMs once and
refines them with many CRF settings.
"""
import copy
from typing import Optional

import numpy as np
import torch

from mmcrack.registry import TASK_UTILS

from .crack_classifier import CrackClassifier
from .dense_crf import DenseCRFSettings, dense_crf
from .generator import PseudoLabel, as_rgb_uint8
from .label_output import LabelOutput
from .localization import grad_cam, upsample_map
from .presets import load_preset, merge_settings

__all__ = ['CRFLabelGenerator']


@TASK_UTILS.register_module()
class CRFLabelGenerator:
    """CRF pseudo-labels: Grad-CAM of a crack-patch classifier refined by a
    dense CRF.

    Args:
        classifier_config (str): the classifier's config (mmpretrain
            ``ImageClassifier``; its ``data_preprocessor`` normalises).
        classifier_checkpoint (str): trained weights, exactly 2 classes
            (crack index from the checkpoint's ``dataset_meta``, else 1).
        device (str): ``'cpu'``, ``'cuda'``, ``'cuda:N'`` (the CRF runs on
            the CPU).
        preset (str): the preset that gives every setting its default: a
            name under ``configs/_base_/pseudo_label/`` (``'crf'``) or a
            config file (e.g. one written by the CRF grid search).
        cam (dict): ``target_layer`` (module path or None: last conv
            stage), ``class_index`` (``'crack'`` or ``'argmax'``),
            ``normalize`` (``'minmax'`` / ``'max'``), ``resize`` and
            ``quantize`` of :func:`~.localization.upsample_map`.
        crf (dict): the fields of :class:`~.dense_crf.DenseCRFSettings`.
        output (dict): ``binarize``, ``threshold`` (on the CRF posterior),
            ``min_crack_pixels`` (:class:`~.label_output.LabelOutput`).
        channels_last (bool): run the classifier in channels-last memory.
        Settings are merged field by field into the preset's; an unknown
        name raises ``KeyError``, a bad CRF value ``ValueError``.
    """

    def __init__(self,
                 classifier_config: str,
                 classifier_checkpoint: str,
                 device: str = 'cpu',
                 preset: str = 'crf',
                 **settings):
        self.settings_ = merge_settings(load_preset(preset), settings)
        s = self.settings_
        if s['cam']['class_index'] not in ('crack', 'argmax'):
            raise ValueError("cam.class_index must be 'crack' or 'argmax', "
                             f"got {s['cam']['class_index']!r}")
        #: CRF parameters (the ``crf`` settings)
        self.crf = DenseCRFSettings(**s['crf'])
        #: label format and keep rule (the ``output`` settings)
        self.output = LabelOutput.from_settings(s['output'])
        #: the classifier: model, normalisation, logits, Grad-CAM target
        self.classifier = CrackClassifier(classifier_config,
                                          classifier_checkpoint, device,
                                          s['channels_last'])
        self.checkpoint_path = classifier_checkpoint
        self.target_layer = self.classifier.target_module(
            s['cam']['target_layer'])

    def settings(self) -> dict:
        """All step settings (JSON-serialisable), e.g. for cache keys."""
        return copy.deepcopy(self.settings_)

    def cam(self, img_rgb: np.ndarray) -> np.ndarray:
        """Step 1: the Grad-CAM map at image size.

        Args:
            img_rgb: uint8 RGB (H, W, 3).

        Returns:
            float32 (H, W) in [0, 1].
        """
        c, s = self.classifier, self.settings_['cam']
        x = c.normalise(img_rgb)[None]
        index = c.crack_index if s['class_index'] == 'crack' else None
        with torch.no_grad():  # grad_cam records only the tail it needs
            heat = grad_cam(c.model, self.target_layer, x, index,
                            forward_fn=c.logits, normalize=s['normalize'])[0]
        return upsample_map(heat, img_rgb.shape[:2], s['resize'],
                            s['quantize'])

    def refine(self, cam: np.ndarray, img_rgb: np.ndarray,
               crf: Optional[DenseCRFSettings] = None) -> np.ndarray:
        """Step 2: the dense-CRF posterior of a CAM.

        Args:
            cam: float (H, W) in [0, 1], the crack probability.
            img_rgb: uint8 RGB (H, W, 3).
            crf: CRF parameters; default the ``crf`` settings.

        Returns:
            float32 (H, W) posterior P(crack) in [0, 1].
        """
        _, prob = dense_crf(cam, img_rgb, crf or self.crf, return_prob=True)
        return prob

    def __call__(self, img: np.ndarray, return_stages: bool = False,
                 name: str = 'image') -> PseudoLabel:
        """CRF pseudo-label of one image.

        Args:
            img: uint8 RGB (H, W, 3); grey, RGBA and 16-bit images are
                converted with a warning.
            return_stages: also return ``stages['cam']`` (the upsampled
                Grad-CAM) and ``stages['crf_prob']`` (the posterior), both
                float32 (H, W) in [0, 1].
            name: used in warnings.

        Returns:
            :class:`~.generator.PseudoLabel`: ``soft`` the CRF posterior,
            ``label`` ``output.label(soft)``, ``keep`` the keep rule.
        """
        img = as_rgb_uint8(img, name)
        cam = self.cam(img)
        soft = self.refine(cam, img)
        label = self.output.label(soft)
        stages = dict(cam=cam, crf_prob=soft) if return_stages else {}
        return PseudoLabel(soft=soft, label=label,
                           keep=self.output.keep(int(label.sum())),
                           stages=stages)
