"""Loading mmengine checkpoints on torch >= 2.6 — the one documented patch.

torch 2.6 made ``torch.load(weights_only=True)`` the default. mmengine 0.10.7
calls ``torch.load(filename, map_location=...)`` without ``weights_only`` and
its checkpoints hold numpy values and ``HistoryBuffer`` objects in ``meta``
and ``message_hub``, so ``--resume``, ``load_from`` and ``init_model`` all fail
with ``UnpicklingError: Weights only load failed`` (fixed upstream only after
0.10.7, mmengine PR #1670).

mmcrack re-registers mmengine's loader for **local files** (the ``''`` scheme
of :class:`mmengine.runner.CheckpointLoader`) with one that passes
``weights_only=False``. Nothing else changes: ``torch.load`` itself is not
patched and no environment variable is needed. Unpickling can run code, so
only load checkpoints you trust — your own training runs, as here.
"""
import os.path as osp

import torch
from mmengine.runner import CheckpointLoader

_ENABLED = False


def load_trusted_local_checkpoint(filename: str, map_location=None):
    """mmengine's local-file checkpoint loader with ``weights_only=False``."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=False)


def enable_trusted_checkpoint_loading() -> None:
    """Make mmengine load local checkpoints fully (idempotent)."""
    global _ENABLED
    if not _ENABLED:
        CheckpointLoader.register_scheme(
            prefixes='', loader=load_trusted_local_checkpoint, force=True)
        _ENABLED = True
