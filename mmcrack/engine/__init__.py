from .distributed import (
                          CPUAwareDistributedDataParallel,
                          init_cpu_distributed,
                          shutdown_distributed,
)
from .hooks import PseudoLabelHook, RNGStateHook
from .runners import WeaklySupervisedRunner, prepare_weakly_supervised_cfg

__all__ = [
    'CPUAwareDistributedDataParallel', 'init_cpu_distributed',
    'shutdown_distributed', 'PseudoLabelHook', 'RNGStateHook',
    'WeaklySupervisedRunner', 'prepare_weakly_supervised_cfg'
]
