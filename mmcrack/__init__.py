"""mmcrack: weakly-supervised crack segmentation on OpenMMLab 2.x.

Importing mmcrack checks the pinned stack, enables loading of mmengine
checkpoints on torch >= 2.6 (see :mod:`mmcrack.utils.checkpoint_compat`) and
registers every module (see :mod:`mmcrack.registry`).
"""
from .utils.version_check import check_dependencies
from .version import __version__

check_dependencies()

from .utils.checkpoint_compat import enable_trusted_checkpoint_loading  # noqa

enable_trusted_checkpoint_loading()

from . import apis, datasets, engine, evaluation, models, pseudo_label  # noqa

__all__ = ['__version__']
