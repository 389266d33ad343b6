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
from mmengine.registry import TASK_UTILS


@TASK_UTILS.register_module(force=True)
class FakeCrackGenerator:

    def __init__(self, checkpoint_path, calls_dir, threshold=90,
                 device='cpu'):
        self.checkpoint_path = checkpoint_path
        self.calls_dir = calls_dir
        self.threshold = threshold
        self.device = device

    def settings(self):
        return dict(threshold=self.threshold)

    def __call__(self, img):
        os.makedirs(self.calls_dir, exist_ok=True)
        grey = img.mean(axis=2)
        label = (grey < self.threshold).astype(np.uint8)
        digest = abs(hash(img.tobytes())) % 10**12
        with open(osp.join(self.calls_dir, f'{digest}.{get_rank()}'),
                  'w'):
            pass
        return SimpleNamespace(label=label, soft=label.astype(np.float32),
                               keep=bool(label.sum() >= 100))
