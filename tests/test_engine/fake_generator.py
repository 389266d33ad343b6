"""A stand-in pseudo-label generator for hook tests (no classifier).

Labels pixels darker than ``threshold`` as crack; records every call as a
file ``<calls_dir>/<stem-of-call-counter>.<rank>`` so tests can count calls
across processes.
"""
import os
import os.path as osp
from types import SimpleNamespace

import numpy as np
from mmengine.dist import get_rank

from mmcrack.pseudo_label.label_output import LabelOutput
from mmcrack.registry import TASK_UTILS


@TASK_UTILS.register_module(force=True)
class FakeCrackGenerator:

    def __init__(self, checkpoint_path=None, calls_dir=None, threshold=90,
                 min_crack_pixels=5, device='cpu', classifier_config=None,
                 classifier_checkpoint=None, binarize=True):
        self.checkpoint_path = checkpoint_path or classifier_checkpoint
        self.calls_dir = calls_dir
        self.threshold = threshold
        self.device = device
        self.output = LabelOutput(binarize=binarize, threshold=0.5,
                                  min_crack_pixels=min_crack_pixels)

    def settings(self):
        return dict(threshold=self.threshold,
                    min_crack_pixels=self.output.min_crack_pixels)

    def __call__(self, img, return_stages=False, name='image'):
        os.makedirs(self.calls_dir, exist_ok=True)
        grey = img.mean(axis=2)
        label = (grey < self.threshold).astype(np.uint8)
        digest = abs(hash(img.tobytes())) % 10**12
        with open(osp.join(self.calls_dir, f'{digest}.{get_rank()}'),
                  'w'):
            pass
        return SimpleNamespace(label=label, soft=label.astype(np.float32),
                               keep=self.output.keep(label.sum()),
                               stages={})
