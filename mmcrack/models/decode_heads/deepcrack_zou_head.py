"""Skip-layer fusion outputs of DeepCrack (Zou et al., IEEE TIP 2019)."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.utils import resize
from torch import Tensor

from mmcrack.registry import SEG_MODELS

from .deep_supervision_head import DeepSupervisionHead


@SEG_MODELS.register_module()
class DeepCrackZouHead(DeepSupervisionHead):
    """DeepCrack (Zou et al. 2019) head: 5 scale outputs and their fusion.

    Inputs are the 5 encoder+decoder concatenations of
    :class:`DeepCrackZouSegNet` (strides 1, 2, 4, 8, 16). Each scale gives a
    one-channel map at input size; a conv over the 5 gives the fused map.
    Outputs: ``side1 .. side5`` (scale 1 = full resolution) and ``fuse``;
    inference uses ``fuse``. Loss: the same loss with equal weight 1 on all
    6 outputs (paper Eq. 1-2 and the port).

    ``side_mode`` — paper vs. the authors' PyTorch port:

    * ``'paper'`` (default): 1x1 conv to one channel at the scale's
      resolution, then upsampling to input size (bilinear here; the Caffe
      model used a deconvolution + crop).
    * ``'port'``: bilinear upsampling of the concatenated features to input
      size first, then ``conv3x3-ReLU`` to ``side_channels`` (64) and a
      ``conv3x3`` to one channel. Much more compute (full-resolution 3x3
      convs over up to 1024 channels).

    ``fuse_kernel_size``: 1 as the paper (default); 3 as the port.

    Args:
        in_channels (Sequence[int]): Channels of the 5 scales.
        side_weights (Sequence[float]): Loss weights of the scale outputs.
        fuse_weight (float): Loss weight of the fused output.
        side_mode (str): ``'paper'`` or ``'port'``.
        side_channels (int): Hidden width of the ``'port'`` side branch.
        fuse_kernel_size (int): Kernel of the fuse conv.
        norm_cfg (dict, optional): Norm in the ``'port'`` side branch (the
            port has none). Defaults to None.
        init_cfg: Defaults to N(0, 0.01) for the convs.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (128, 192, 384, 768, 1024),
                 side_weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0, 1.0),
                 fuse_weight: float = 1.0,
                 side_mode: str = 'paper',
                 side_channels: int = 64,
                 fuse_kernel_size: int = 1,
                 in_index: Sequence[int] = (0, 1, 2, 3, 4),
                 input_transform: str = 'multiple_select',
                 channels: Optional[int] = None,
                 norm_cfg: Optional[dict] = None,
                 init_cfg=dict(type='Normal', layer='Conv2d', std=0.01),
                 **kwargs):
        n = len(in_channels)
        if len(side_weights) != n:
            raise ValueError(f'{n} scales but side_weights={side_weights}')
        if side_mode not in ('paper', 'port'):
            raise ValueError(f"side_mode must be 'paper' or 'port', "
                             f'got {side_mode}')
        super().__init__(
            output_names=[f'side{i + 1}' for i in range(n)] + ['fuse'],
            loss_weights=[*side_weights, fuse_weight],
            main_index=n,
            in_channels=list(in_channels),
            channels=channels or n,
            in_index=list(in_index),
            input_transform=input_transform,
            norm_cfg=norm_cfg,
            init_cfg=init_cfg,
            **kwargs)
        self.side_mode = side_mode
        self.side_convs = nn.ModuleList()
        for c in in_channels:
            if side_mode == 'paper':
                self.side_convs.append(nn.Conv2d(c, 1, 1))
            else:
                self.side_convs.append(
                    nn.Sequential(
                        ConvModule(
                            c,
                            side_channels,
                            3,
                            padding=1,
                            norm_cfg=norm_cfg,
                            act_cfg=self.act_cfg),
                        nn.Conv2d(side_channels, 1, 3, padding=1)))
        self.fuse_conv = nn.Conv2d(
            n, 1, fuse_kernel_size, padding=fuse_kernel_size // 2)

    def _up(self, x: Tensor, size) -> Tensor:
        if x.shape[2:] == size:
            return x
        return resize(
            x, size=size, mode='bilinear', align_corners=self.align_corners)

    def forward_all(self, inputs) -> List[Tensor]:
        feats = self._transform_inputs(inputs)
        size = feats[0].shape[2:]
        sides = []
        for conv, feat in zip(self.side_convs, feats):
            if self.side_mode == 'paper':
                sides.append(self._up(conv(feat), size))
            else:
                sides.append(conv(self._up(feat, size)))
        fused = self.fuse_conv(torch.cat(sides, dim=1))
        return sides + [fused]
