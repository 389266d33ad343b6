from .distributed import (
                          CPUAwareDistributedDataParallel,
                          init_cpu_distributed,
                          shutdown_distributed,
)
from .hooks import PseudoLabelHook, RNGStateHook

__all__ = [
    'CPUAwareDistributedDataParallel', 'init_cpu_distributed',
    'shutdown_distributed',
    'PseudoLabelHook', 'RNGStateHook'
]
