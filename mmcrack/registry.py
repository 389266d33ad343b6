"""The registries mmcrack registers into — every module imports them from here.

mmcrack has **no registries of its own**. Each module is registered into the
registry of the OpenMMLab library whose configs use it, so that configs keep
that library's ``default_scope`` and use bare type names:

==================  ====================================  ====================
name here           registry                              used from
==================  ====================================  ====================
``SEG_MODELS``      ``mmseg.registry.MODELS``             mmseg configs
``SEG_DATASETS``    ``mmseg.registry.DATASETS``           mmseg configs
``CLS_MODELS``      ``mmpretrain.registry.MODELS``        mmpretrain configs
``CLS_DATASETS``    ``mmpretrain.registry.DATASETS``      mmpretrain configs
``TRANSFORMS``      ``mmengine.registry.TRANSFORMS``      both (root)
``METRICS``         ``mmengine.registry.METRICS``         both (root)
``HOOKS``           ``mmengine.registry.HOOKS``           both (root)
``MODEL_WRAPPERS``  ``mmengine.registry.MODEL_WRAPPERS``  both (root)
``RUNNERS``         ``mmengine.registry.RUNNERS``         both (root)
``TASK_UTILS``      ``mmengine.registry.TASK_UTILS``      both (root): the
                                                          pseudo-label
                                                          generators
==================  ====================================  ====================

A module that is both a segmentation and a classification building block
(a backbone) is registered into ``SEG_MODELS`` and ``CLS_MODELS``.

Every scoped registry (mmseg's, mmpretrain's) is a child of mmengine's root
registry and falls back to it, so a module registered in the root resolves
from both an ``mmseg`` and an ``mmpretrain`` scoped config. A registry that is
a *child of mmseg's* would be unreachable from mmpretrain configs, which is
why mmcrack does not create one.

Configs load the plugin with::

    custom_imports = dict(imports=['mmcrack'], allow_failed_imports=False)

which imports every mmcrack module and so registers it.
"""
from mmengine.registry import (
                               HOOKS,
                               METRICS,
                               MODEL_WRAPPERS,
                               RUNNERS,
                               TASK_UTILS,
                               TRANSFORMS,
)
from mmpretrain.registry import DATASETS as CLS_DATASETS
from mmpretrain.registry import MODELS as CLS_MODELS
from mmseg.registry import DATASETS as SEG_DATASETS
from mmseg.registry import MODELS as SEG_MODELS

__all__ = [
    'HOOKS', 'MODEL_WRAPPERS', 'METRICS', 'RUNNERS', 'TASK_UTILS',
    'TRANSFORMS', 'CLS_DATASETS', 'CLS_MODELS', 'SEG_DATASETS', 'SEG_MODELS'
]
