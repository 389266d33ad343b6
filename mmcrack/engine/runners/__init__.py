from .weakly_supervised_runner import (
                                       WeaklySupervisedRunner,
                                       prepare_weakly_supervised_cfg,
)

__all__ = ['WeaklySupervisedRunner', 'prepare_weakly_supervised_cfg']
