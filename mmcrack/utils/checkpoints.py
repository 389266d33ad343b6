"""Checkpoints of mmengine work dirs: which ones are complete, which one a
stage uses, and writing them atomically — the one place every tool and
script finds a checkpoint.

* :func:`is_complete_checkpoint` — a whole ``torch.save`` file.
* :func:`latest_complete_checkpoint` — what ``--resume`` continues from.
* :func:`find_checkpoint` — the result of a finished run: its last
  checkpoint, or its best one (``best_*.pth``, when the run validated).
* :func:`make_local_puts_atomic` — mmengine's checkpoint writes through
  :func:`~mmcrack.utils.file_io.atomic_write_bytes`.

Step numbers are compared as numbers (``epoch_10`` after ``epoch_9``), and a
file cut short by a killed writer is never returned.
"""
import glob
import os.path as osp
import re
import zipfile
from typing import List, Optional, Tuple

from .file_io import atomic_write_bytes

_STEP_RE = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')
_BEST_RE = re.compile(r'^best_.*_(?:iter|epoch)_(\d+)\.pth$')


def is_complete_checkpoint(path: str) -> bool:
    """Whether ``path`` is a whole ``torch.save`` file (zip format).

    A file cut short by a killed writer lacks the zip's central directory,
    which ``torch.save`` writes last.
    """
    try:
        return osp.getsize(path) > 0 and zipfile.is_zipfile(path)
    except OSError:
        return False




def latest_complete_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint to resume from in an mmengine work dir.

    mmengine's ``last_checkpoint`` marker when it names a complete file;
    otherwise (a run killed while writing a checkpoint or the marker, or
    after ``max_keep_ckpts`` removed the file it names) the complete
    ``iter_N.pth`` / ``epoch_N.pth`` with the largest N. None if there is
    none.
    """
    marker = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(marker):
        with open(marker) as f:
            named = f.read().strip()
        if named and is_complete_checkpoint(named):
            return named
    steps = _complete_steps(work_dir, _STEP_RE)
    return max(steps)[1] if steps else None


def _complete_steps(work_dir: str, pattern) -> List[Tuple[int, str]]:
    """(step, path) of the complete checkpoints whose name matches."""
    steps = []
    for path in glob.glob(osp.join(glob.escape(work_dir), '*.pth')):
        match = pattern.match(osp.basename(path))
        if match and is_complete_checkpoint(path):
            steps.append((int(match.group(1)), path))
    return steps


def find_checkpoint(work_dir: str, which: str = 'last') -> Optional[str]:
    """The checkpoint a finished run in ``work_dir`` hands on.

    Args:
        work_dir: an mmengine work dir.
        which: ``'last'`` — the newest complete checkpoint
            (:func:`latest_complete_checkpoint`); ``'best'`` — the complete
            ``best_<metric>_<iter|epoch>_N.pth`` with the largest N (the
            checkpoint hook's ``save_best``), else the last one.

    Returns:
        the path, or None when the work dir holds no complete checkpoint.
    """
    if which not in ('last', 'best'):
        raise ValueError(f"which must be 'last' or 'best', got {which!r}")
    if which == 'best':
        best = _complete_steps(work_dir, _BEST_RE)
        if best:
            return max(best)[1]
    return latest_complete_checkpoint(work_dir)


def make_local_puts_atomic() -> None:
    """Route mmengine's local-file ``put`` (checkpoints, dumped results)
    through :func:`atomic_write_bytes`, so a killed run never leaves a
    half-written ``iter_N.pth`` under its final name. Idempotent; affects
    this process only."""
    from mmengine.fileio.backends.local_backend import LocalBackend
    if getattr(LocalBackend.put, '_mmcrack_atomic', False):
        return

    def put(self, obj: bytes, filepath) -> None:
        atomic_write_bytes(str(filepath), obj)

    put._mmcrack_atomic = True
    put.__doc__ = LocalBackend.put.__doc__
    LocalBackend.put = put
