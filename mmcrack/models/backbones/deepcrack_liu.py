"""Encoder of DeepCrack (Liu et al., Neurocomputing 2019)."""
from typing import Sequence, Tuple

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from mmcrack.registry import SEG_MODELS


@SEG_MODELS.register_module()
class DeepCrackLiuEncoder(BaseModule):
    """VGG-16 style encoder of DeepCrack (Liu et al. 2019) with BN.

    Five stages of 3x3 ``conv-BN-ReLU`` layers (2, 2, 3, 3, 3 convs with
    64, 128, 256, 512, 512 channels at ``base_channels=64``); a 2x2 max-pool
    sits *between* stages, so the stage outputs are at strides 1, 2, 4, 8, 16
    and there is no fifth pool (as in the paper's figure, pool1-pool4).
    All five stage outputs are returned; the :class:`DeepCrackLiuHead` puts
    a 1x1 side output on each of them.

    Inputs of any size are accepted: pooling floors odd sizes and the head
    upsamples every side output to the size of the stride-1 stage.

    Args:
        in_channels (int): Input image channels. Defaults to 3.
        base_channels (int): Channels of the first stage; later stages use
            ``base_channels * stage_multipliers[i]``. 64 as VGG-16; smaller
            values give cheap variants for tests. Defaults to 64.
        stage_multipliers (Sequence[int]): Per stage channel multiplier.
            Defaults to (1, 2, 4, 8, 8).
        num_convs (Sequence[int]): Convs per stage. Defaults to
            (2, 2, 3, 3, 3).
        conv_bias (bool | str): Bias of the 3x3 convs; ``'auto'`` means no
            bias when a norm layer follows. Defaults to 'auto'.
        norm_cfg (dict | None): Norm layer after every conv. ``None`` removes
            BN (a plain VGG). Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation. Defaults to ``dict(type='ReLU')``.
        init_cfg (dict | list[dict], optional): Initialisation. The paper
            trains from scratch; defaults to Kaiming for convs and constant
            1 for BN.
    """

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 stage_multipliers: Sequence[int] = (1, 2, 4, 8, 8),
                 num_convs: Sequence[int] = (2, 2, 3, 3, 3),
                 conv_bias='auto',
                 norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='ReLU'),
                 init_cfg=[
                     dict(type='Kaiming', layer='Conv2d'),
                     dict(type='Constant', val=1, layer=['_BatchNorm'])
                 ]):
        super().__init__(init_cfg)
        assert len(stage_multipliers) == len(num_convs)
        self.out_channels = tuple(base_channels * m for m in stage_multipliers)
        self.stages = nn.ModuleList()
        c_in = in_channels
        for c_out, n in zip(self.out_channels, num_convs):
            layers = []
            for _ in range(n):
                layers.append(
                    ConvModule(
                        c_in,
                        c_out,
                        3,
                        padding=1,
                        bias=conv_bias,
                        norm_cfg=norm_cfg,
                        act_cfg=act_cfg))
                c_in = c_out
            self.stages.append(nn.Sequential(*layers))
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        outs = []
        for i, stage in enumerate(self.stages):
            if i > 0:
                x = self.pool(x)
            x = stage(x)
            outs.append(x)
        return tuple(outs)
