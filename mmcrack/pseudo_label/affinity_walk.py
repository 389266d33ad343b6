"""CAM + learned-affinity random walk + dense CRF labels (AffinityNet-style).

A part of the paper's "CRF+RW labels" comparison (Wang et al.), built at CPU
scale; **not** that method: its first step, refining the CAM by
sub-category exploration (an extra classifier training round on k-means
sub-classes of the crack / no-crack features), is not here, and the
affinity network is a small CNN trained from scratch instead of a deep
backbone (docs/pseudo_labels.md says what is missing). What is here:

1. ``cam``: the Grad-CAM of the crack-patch classifier, as in the CRF labels
   (:meth:`CRFLabelGenerator.cam`);
2. training round (:func:`train_affinity_net`): confident regions of the
   training images from two dense CRFs of the CAM with the background score
   ``(1 - cam) ** alpha`` strengthened (``confidence.fg_alpha`` < 1:
   confident crack) and weakened (``confidence.bg_alpha`` > 1: confident
   background); pixel pairs within ``affinity.radius`` cells of the
   stride-``affinity.stride`` feature grid get the target 1 (both confident,
   same class), 0 (both confident, different classes) or are ignored; a
   small CNN (:class:`PixelAffinityNet`) learns features whose affinity
   ``exp(-mean |f_i - f_j|)`` fits them (AffinityNet's loss: crack-crack,
   background-background and cross pairs balanced 1/4, 1/4, 1/2);
3. ``walk``: the CAM and the background score on the feature grid are
   propagated by the random walk ``v <- T v``, ``T = D^-1 A^beta``
   (:func:`random_walk`), ``walk.steps`` times, and their ratio upsampled is
   the crack probability;
4. ``crf`` + ``output``: that map through the dense CRF and the binary
   label, as in the CRF labels.

``AffinityWalkLabelGenerator`` has the generator contract (``output``,
``checkpoint_path``, ``settings()``, ``__call__``) and its preset is
``configs/_base_/pseudo_label/affinity_walk.py`` (the CRF-label preset plus
``confidence``, ``affinity``, ``walk``); ``affinity.checkpoint`` names the
trained network (:func:`save_affinity_net`).
"""
import copy

import cv2
import numpy as np
import torch

from mmcrack.registry import TASK_UTILS

from .affinity_net import (
    PixelAffinityNet,
    load_affinity_net,
    neighbour_offsets,
    pair_affinities,
    random_walk,
    save_affinity_net,
)
from .affinity_training import (
    affinity_loss,
    affinity_targets,
    confident_regions,
    train_affinity_net,
)
from .crf_label_generator import CRFLabelGenerator
from .generator import PseudoLabel, as_rgb_uint8
from .localization import upsample_map
from .presets import load_preset, merge_settings

__all__ = [
    'PixelAffinityNet', 'neighbour_offsets', 'pair_affinities',
    'random_walk', 'confident_regions', 'affinity_targets',
    'affinity_loss', 'train_affinity_net', 'save_affinity_net',
    'load_affinity_net', 'AffinityWalkLabelGenerator', 'crf_labels_of'
]

#: Steps of the CRF-label preset that the inner CRFLabelGenerator takes.
_CRF_STEPS = ('cam', 'crf', 'output', 'channels_last')


def crf_labels_of(settings: dict, classifier_config: str,
                  classifier_checkpoint: str,
                  device: str = 'cpu') -> CRFLabelGenerator:
    """The CRF-label generator inside an affinity-walk preset's settings
    (its ``cam``, ``crf``, ``output`` and ``channels_last`` steps): the CAM
    and CRF of the training round and of the labels.

    Args:
        settings: the settings of an ``affinity_walk`` preset
            (:func:`load_preset`).
        classifier_config, classifier_checkpoint: the crack-patch
            classifier.
        device: ``'cpu'``, ``'cuda'``, ...
    """
    return CRFLabelGenerator(classifier_config, classifier_checkpoint,
                             device, **{k: settings[k] for k in _CRF_STEPS})


@TASK_UTILS.register_module()
class AffinityWalkLabelGenerator:
    """Labels from the CAM propagated by a learned-affinity random walk and
    refined by a dense CRF (see the module docstring; not the paper's
    CRF+RW labels: no sub-category exploration).

    Args:
        classifier_config, classifier_checkpoint (str): the crack-patch
            classifier (as for :class:`CRFLabelGenerator`).
        device (str): ``'cpu'``, ``'cuda'``, ...
        preset (str): default ``'affinity_walk'``.
        cam, crf, output, channels_last: as for
            :class:`CRFLabelGenerator`.
        confidence (dict): ``fg_alpha``, ``bg_alpha`` (training labels).
        affinity (dict): ``checkpoint`` (the trained network, required
            here) and the training settings of :func:`train_affinity_net`.
        walk (dict): ``radius`` (cells), ``beta``, ``steps``, ``bg_alpha``
            (background score ``(1 - cam) ** bg_alpha`` walked beside the
            CAM).
    """

    def __init__(self,
                 classifier_config: str,
                 classifier_checkpoint: str,
                 device: str = 'cpu',
                 preset: str = 'affinity_walk',
                 **settings):
        self.settings_ = merge_settings(load_preset(preset), settings)
        s = self.settings_
        self.crf_labels = crf_labels_of(s, classifier_config,
                                        classifier_checkpoint, device)
        self.output = self.crf_labels.output
        self.checkpoint_path = classifier_checkpoint
        if s['affinity']['checkpoint'] is None:
            raise ValueError(
                'AffinityWalkLabelGenerator: affinity.checkpoint is not set; '
                'train the affinity network first (mmcrack.pseudo_label.'
                'affinity_walk.train_affinity_net + save_affinity_net)')
        self.net = load_affinity_net(s['affinity']['checkpoint'],
                                     self.crf_labels.classifier.device)

    def settings(self) -> dict:
        """All step settings (JSON-serialisable), e.g. for cache keys."""
        return copy.deepcopy(self.settings_)

    def walk(self, cam: np.ndarray, img_rgb: np.ndarray) -> np.ndarray:
        """Step 3: the random-walk crack probability at image size.

        Args:
            cam: float (H, W) in [0, 1].
            img_rgb: uint8 RGB (H, W, 3).

        Returns:
            float32 (H, W) in [0, 1].
        """
        s = self.settings_['walk']
        h, w = cam.shape
        with torch.no_grad():
            feats = self.net(self.crf_labels.classifier.normalise(
                img_rgb)[None])[0].cpu()
        gh, gw = feats.shape[-2:]
        small = cv2.resize(np.asarray(cam, np.float32), (gw, gh),
                           interpolation=cv2.INTER_AREA)
        bg = (1.0 - small) ** float(s['bg_alpha'])
        walked = random_walk(feats, np.stack([bg, small]), s['radius'],
                             s['beta'], s['steps'])
        total = walked.sum(axis=0)
        prob = np.where(total > 0, walked[1] / np.where(total > 0, total, 1),
                        0).astype(np.float32)
        return upsample_map(np.clip(prob, 0, 1), (h, w), 'bilinear')

    def __call__(self, img: np.ndarray, return_stages: bool = False,
                 name: str = 'image') -> PseudoLabel:
        """Label one image.

        Args:
            img: uint8 RGB (H, W, 3) (grey / RGBA / 16-bit converted with a
                warning).
            return_stages: also return float32 (H, W) maps ``cam``,
                ``walk`` and ``crf_prob``.
            name: used in warnings.
        """
        img = as_rgb_uint8(img, name)
        cam = self.crf_labels.cam(img)
        walked = self.walk(cam, img)
        soft = self.crf_labels.refine(walked, img)
        label = self.output.label(soft)
        stages = dict(cam=cam, walk=walked,
                      crf_prob=soft) if return_stages else {}
        return PseudoLabel(soft=soft, label=label,
                           keep=self.output.keep(int(label.sum())),
                           stages=stages)
