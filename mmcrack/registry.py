"""Where mmcrack registers its modules — the one place to look.

mmcrack has **no registries of its own**. Each module is registered into the
registry of the OpenMMLab library whose configs use it, so that configs keep
that library's ``default_scope`` and use bare type names:

=====================  ==========================================  ===================
kind                   registry                                    used from
=====================  ==========================================  ===================
segmentation models    ``mmseg.registry.MODELS``                   mmseg configs
segmentation datasets  ``mmseg.registry.DATASETS``                 mmseg configs
classification data    ``mmpretrain.registry.DATASETS``            mmpretrain configs
transforms             ``mmengine.registry.TRANSFORMS`` (root)     both
metrics                ``mmengine.registry.METRICS`` (root)        both
hooks                  ``mmengine.registry.HOOKS`` (root)          both
model wrappers         ``mmengine.registry.MODEL_WRAPPERS`` (root) both
=====================  ==========================================  ===================

Every scoped registry (mmseg's, mmpretrain's) is a child of mmengine's root
registry and falls back to it, so a module registered in the root resolves
from both an ``mmseg`` and an ``mmpretrain`` scoped config. A registry that is
a *child of mmseg's* would be unreachable from mmpretrain configs, which is
why mmcrack does not create one.

Configs load the plugin with::

    custom_imports = dict(imports=['mmcrack'], allow_failed_imports=False)

which imports every mmcrack module and so registers it.
"""
from mmengine.registry import HOOKS, MODEL_WRAPPERS
from mmengine.registry import METRICS
from mmengine.registry import TRANSFORMS
from mmpretrain.registry import DATASETS as CLS_DATASETS
from mmpretrain.registry import MODELS as CLS_MODELS
from mmseg.registry import DATASETS as SEG_DATASETS
from mmseg.registry import MODELS as SEG_MODELS

__all__ = [
    'HOOKS', 'MODEL_WRAPPERS', 'METRICS', 'TRANSFORMS', 'CLS_DATASETS',
    'CLS_MODELS', 'SEG_DATASETS', 'SEG_MODELS'
]
