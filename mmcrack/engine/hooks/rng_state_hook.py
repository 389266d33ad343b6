"""Checkpoint torch's global random state, so that ``--resume`` continues
the random streams of an uninterrupted run (dropout, Grad-CAM-free
training noise drawn with ``torch.rand*``).

mmengine 0.10.7 checkpoints weights, optimizer, schedulers and the message
hub, re-seeds at start and replays the data order on resume, but it does not
save torch's global generator: a resumed run with dropout then draws other
masks than the uninterrupted one (measured: max weight difference 0.022
after 10 U-Net iterations, docs/determinism.md).

What is saved and when it is restored:

* ``checkpoint['rng_state']`` = torch's CPU generator state (and the CUDA
  generators' when CUDA is initialised), taken in ``before_save_checkpoint``
  -- the checkpoint hook saves after iteration/epoch ``k`` has finished;
* restored in ``before_train_iter`` / ``before_train_epoch`` of the first
  iteration/epoch after the resume, i.e. *after* mmengine has replayed the
  data loader up to iteration ``k``, so the replay cannot consume it.

numpy's and Python's global generators are not touched: data transforms
draw from them, in the loader workers (seeded per worker by mmengine) or in
the main process, where the replay reproduces them.

``tools/train.py`` registers this hook for every run; add
``dict(type='RNGStateHook')`` to ``custom_hooks`` when building a
``Runner`` yourself.
"""
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.runner import IterBasedTrainLoop

from mmcrack.registry import HOOKS


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save torch's global RNG state in checkpoints, restore it on resume
    right before the next training iteration (see the module docstring)."""

    priority = 'VERY_LOW'

    def __init__(self):
        self._pending: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(torch=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # only a resume continues a run; load_from starts a new one
        if runner._resume and 'rng_state' in checkpoint:
            self._pending = checkpoint['rng_state']

    def _restore(self) -> None:
        state, self._pending = self._pending, None
        if state is None:
            return
        torch.set_rng_state(state['torch'])
        cuda = state.get('cuda')
        if cuda is not None and torch.cuda.is_available():
            if len(cuda) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all(cuda)

    def before_train_epoch(self, runner) -> None:
        # epoch-based loops resume at an epoch boundary: no batch replay
        if not isinstance(runner.train_loop, IterBasedTrainLoop):
            self._restore()

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        self._restore()
