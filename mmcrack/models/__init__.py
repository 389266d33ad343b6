"""Crack segmentation models, registered into ``mmseg.registry.MODELS``.

Importing this package also imports ``mmseg.models`` (UNet, FCNHead,
EncoderDecoder, CrossEntropyLoss ...) and ``mmpretrain.models`` (for
``type='mmpretrain.EfficientNet'``), so configs built after
``import mmcrack.models`` find everything they name.
"""
import mmpretrain.models  # noqa: F401  (registers mmpretrain.EfficientNet)
import mmseg.models  # noqa: F401

from .backbones import *  # noqa: F401,F403
from .decode_heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403
