"""Converters from the official releases of public crack datasets to
mmcrack's layout (``images/<split>/``, ``masks/<split>/``); the CLIs are
``tools/dataset_converters/*.py``. See ``docs/datasets.md``."""
from .cfd import convert_cfd
from .classification import convert_masks_to_classification
from .common import ConversionError, OutputNotEmptyError, format_report
from .crack500 import convert_crack500
from .deepcrack import convert_deepcrack
from .folders import convert_folders
from .jpeg_masks import convert_jpeg_masks
from .uav75 import convert_uav75

__all__ = [
    'ConversionError', 'OutputNotEmptyError', 'convert_cfd',
    'convert_crack500', 'convert_deepcrack', 'convert_folders',
    'convert_jpeg_masks', 'convert_masks_to_classification', 'convert_uav75',
    'format_report'
]
