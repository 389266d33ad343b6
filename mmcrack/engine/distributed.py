"""Distributed training without a GPU (gloo) — mmcrack's small adaptation.

mmengine 0.10.7 assumes CUDA in three places when ``launcher='pytorch'``:

1. ``init_dist`` calls ``torch.cuda.set_device(local_rank)``;
   :func:`init_cpu_distributed` initialises the gloo process group first
   (``tools/train.py`` / ``tools/test.py`` call it when CUDA is absent), so the
   Runner finds a group already there and skips ``init_dist``.
2. ``Runner.wrap_model`` passes ``device_ids=[LOCAL_RANK]`` to DDP, which DDP
   rejects for CPU modules; :class:`CPUAwareDistributedDataParallel` drops
   ``device_ids`` when the module lives on the CPU.
3. mmseg's ``_base_`` models use SyncBN, which has no CPU kernel; the same
   wrapper reverts SyncBN to BN when the module lives on the CPU.

On CUDA the wrapper behaves exactly like ``MMDistributedDataParallel``, so
mmcrack's runtime config names it unconditionally.
"""
import os

import torch
import torch.distributed as torch_dist
from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm

from mmcrack.registry import MODEL_WRAPPERS


def _module_device(module: torch.nn.Module) -> torch.device:
    for tensor in list(module.parameters()) + list(module.buffers()):
        return tensor.device
    return torch.device('cpu')


@MODEL_WRAPPERS.register_module()
class CPUAwareDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that also runs on CPU (gloo).

    Args:
        module (nn.Module): the model, already on its device.
        device_ids (list[int], optional): kept on CUDA, dropped on CPU.
        **kwargs: passed to ``MMDistributedDataParallel``.
    """

    def __init__(self, module, device_ids=None, **kwargs):
        if _module_device(module).type == 'cpu':
            device_ids = None
            kwargs.pop('output_device', None)
            module = revert_sync_batchnorm(module)
        super().__init__(module=module, device_ids=device_ids, **kwargs)


def init_cpu_distributed(launcher: str, timeout_s: int = 1800) -> bool:
    """Initialise a gloo process group when launched distributed without GPU.

    Args:
        launcher: the ``--launcher`` value (``'none'``, ``'pytorch'``, ...).
        timeout_s: collective timeout in seconds.

    Returns:
        True if this call initialised a gloo group; False when nothing was to
        be done (single process, CUDA available, or already initialised).
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if torch_dist.is_available() and torch_dist.is_initialized():
        return False
    if launcher != 'pytorch':
        raise RuntimeError(
            f'launcher={launcher!r} without a GPU is not supported by '
            'mmcrack; '
            "use launcher='pytorch' (torchrun, tools/dist_train.sh)")
    import datetime
    torch_dist.init_process_group(
        backend='gloo',
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        timeout=datetime.timedelta(seconds=timeout_s))
    return True


def shutdown_distributed() -> None:
    """End a distributed run cleanly: a barrier (every rank has finished
    writing), then ``destroy_process_group``. Without it a gloo rank can
    abort at interpreter exit ("terminate called without an active
    exception", exit -6) while the group's threads are torn down; seen once
    in a CI dry run of the 2-process classifier test. No-op when no group
    is initialised."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
