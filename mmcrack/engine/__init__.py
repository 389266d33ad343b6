from .distributed import CPUAwareDistributedDataParallel, init_cpu_distributed
from .hooks import *  # noqa: F401,F403

__all__ = ['CPUAwareDistributedDataParallel', 'init_cpu_distributed']
