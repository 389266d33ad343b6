from .deep_supervision_head import DeepSupervisionHead
from .deepcrack_liu_head import DeepCrackLiuHead
from .deepcrack_zou_head import DeepCrackZouHead
from .oed_head import OEDHead, ResidualConvBlock

__all__ = [
    'DeepSupervisionHead', 'DeepCrackLiuHead', 'DeepCrackZouHead', 'OEDHead',
    'ResidualConvBlock'
]
