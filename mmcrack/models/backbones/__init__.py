from .deepcrack_liu import DeepCrackLiuEncoder
from .deepcrack_zou import DeepCrackZouSegNet
from .efficientnet_lite import EfficientNetLite
from .efficientnet_skips import EfficientNetSkips

__all__ = [
    'DeepCrackLiuEncoder', 'DeepCrackZouSegNet', 'EfficientNetLite',
    'EfficientNetSkips'
]
