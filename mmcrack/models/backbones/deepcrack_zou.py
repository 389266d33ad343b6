"""SegNet body of DeepCrack (Zou et al., IEEE TIP 2019)."""
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from mmcrack.registry import SEG_MODELS


@SEG_MODELS.register_module()
class DeepCrackZouSegNet(BaseModule):
    """SegNet encoder-decoder of DeepCrack (Zou et al. 2019), as a backbone.

    Encoder: the 13 convs of VGG-16 in 5 stages (2, 2, 3, 3, 3 convs with
    64, 128, 256, 512, 512 channels at ``base_channels=64``), each stage
    followed by a 2x2 max-pool that keeps its indices. Decoder: 5 mirrored
    stages of 13 convs in all; each starts with max-unpooling using the
    indices (and the exact pre-pool size, so odd input sizes work) of the
    matching encoder pool. Within a decoder stage all convs keep the stage's
    width except the last, which narrows to the width of the next stage up
    (SegNet), so decoder widths are 512, 256, 128, 64, 64 at scales 5..1.

    Output: for each scale ``k = 1..5`` (strides 1, 2, 4, 8, 16) the
    concatenation of the last encoder feature before pool ``k`` with the
    last decoder feature of that scale — the skip-layer fusion of the
    paper. Channels (``base_channels=64``): 128, 192, 384, 768, 1024
    (see :attr:`out_channels`). :class:`DeepCrackZouHead` turns them into
    side outputs and the fused map.

    Paper vs. the authors' PyTorch port: the paper puts BN after every conv
    (default, ``norm_cfg=dict(type='BN')``); the port has no BN and biased
    convs (``norm_cfg=None``).

    Args:
        in_channels (int): Input image channels. Defaults to 3.
        base_channels (int): Width of stage 1. Defaults to 64.
        stage_multipliers (Sequence[int]): Per stage width multiplier.
            Defaults to (1, 2, 4, 8, 8).
        num_convs (Sequence[int]): Convs per encoder stage; the decoder
            mirrors it. Defaults to (2, 2, 3, 3, 3).
        conv_bias (bool | str): ``'auto'``: bias only without norm.
        norm_cfg (dict | None): Norm after every conv. Defaults to BN.
        act_cfg (dict): Activation. Defaults to ReLU.
        init_cfg: Defaults to Kaiming (the paper's "msra") for convs.
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
        widths = [base_channels * m for m in stage_multipliers]
        num_stages = len(widths)

        def conv(c_in, c_out):
            return ConvModule(
                c_in,
                c_out,
                3,
                padding=1,
                bias=conv_bias,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg)

        self.encoder = nn.ModuleList()
        c_in = in_channels
        for c, n in zip(widths, num_convs):
            self.encoder.append(
                nn.Sequential(*[conv(c_in if j == 0 else c, c)
                                for j in range(n)]))
            c_in = c

        # decoder[k] works at the scale of encoder stage k
        dec_out = []
        self.decoder = nn.ModuleList()
        for k in range(num_stages):
            c = widths[k]
            c_last = widths[k - 1] if k > 0 else widths[0]
            n = num_convs[k]
            layers = [conv(c, c) for _ in range(n - 1)] + [conv(c, c_last)]
            self.decoder.append(nn.Sequential(*layers))
            dec_out.append(c_last)

        self.pool = nn.MaxPool2d(2, 2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2, 2)
        self.out_channels = tuple(e + d for e, d in zip(widths, dec_out))

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        enc_feats: List[Tensor] = []
        indices = []
        for stage in self.encoder:
            x = stage(x)
            enc_feats.append(x)
            x, idx = self.pool(x)
            indices.append(idx)
        outs = [None] * len(self.encoder)
        for k in reversed(range(len(self.encoder))):
            # plain ints: the flat pool indices refer to the pre-pool size;
            # (sizes traced as tensors, e.g. by FLOP counters, are rejected)
            size = [int(s) for s in enc_feats[k].shape[-2:]]
            x = self.unpool(x, indices[k], output_size=size)
            x = self.decoder[k](x)
            outs[k] = torch.cat([enc_feats[k], x], dim=1)
        return tuple(outs)
