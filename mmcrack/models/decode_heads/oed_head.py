"""Decoder of OED (König et al., Digital Signal Processing 2021)."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.utils import resize
from torch import Tensor

from mmcrack.registry import SEG_MODELS

from .deep_supervision_head import DeepSupervisionHead


class ResidualConvBlock(nn.Module):
    """``x + conv3x3-act(conv3x3-act(x))``, no activation after the sum.

    OED's ``residual_block``: biased convs without BN (``norm_cfg=None``).
    """

    def __init__(self, channels: int, norm_cfg=None,
                 act_cfg=dict(type='ReLU')):
        super().__init__()
        self.conv1 = ConvModule(
            channels, channels, 3, padding=1, norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.conv2 = ConvModule(
            channels, channels, 3, padding=1, norm_cfg=norm_cfg,
            act_cfg=act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(self.conv1(x))


@SEG_MODELS.register_module()
class OEDHead(DeepSupervisionHead):
    """OED decoder (König et al. 2021) with 4 deep-supervision outputs.

    Inputs (from :class:`EfficientNetSkips` with ``with_input=True``):
    ``(image, s2, s4, s8, s16, s32)``. Decoder, filters
    ``decoder_channels = (256, 128, 64, 32, 16)``:

    * stages 0..3: nearest upsampling of the running feature to the size of
      skip s16 / s8 / s4 / s2 (x2; matching sizes instead of a fixed x2
      makes any input size work with TensorFlow-style 'same' padding),
      concatenation with the skip, ``conv3x3-BN-ReLU`` to ``f_i``, then
      ``num_res_blocks`` (2) :class:`ResidualConvBlock` s. Each stage output
      is a deep-supervision tap.
    * full resolution: nearest upsampling to the image size, concatenation
      with ``input_convs`` (2) ``conv3x3-BN-ReLU`` layers of ``f_4`` (16)
      channels applied to the image, ``final_convs`` (2) ``conv3x3-BN-ReLU``
      layers, then a biased 3x3 conv to one channel: the ``main`` output.
    * deep supervision: a 1x1 conv to one channel on each tap, bilinearly
      upsampled to input size: ``aux_s16, aux_s8, aux_s4, aux_s2``.

    Outputs ``main, aux_s16, aux_s8, aux_s4, aux_s2``, all with weight 1 as
    the paper (one loss on 5 outputs); inference uses ``main``. Configure
    ``loss_decode`` as BCE + Dice (:class:`BinaryDiceLoss`, smooth 1,
    over the batch) for OED's ``ce_dice_loss``.

    Differences from the OED Keras code (deliberate, documented): the aux
    maps are upsampled as logits, where Keras applies the sigmoid first
    and upsamples probabilities; the residual blocks have no BN as in the
    code (set ``res_norm_cfg`` to add it). The L2 (1e-5) on decoder kernels
    belongs in the optimizer config (``paramwise_cfg``), not here.

    Args:
        in_channels (Sequence[int]): Channels of the 6 inputs.
        decoder_channels (Sequence[int]): 5 filter counts.
        num_res_blocks (int): Residual blocks per decoder stage.
        res_norm_cfg (dict, optional): Norm inside residual blocks.
        input_convs (int): Convs on the raw image.
        final_convs (int): Convs after the full-resolution concatenation.
        final_kernel_size (int): Kernel of the output conv (3).
        main_weight (float): Loss weight of ``main``.
        aux_weights (Sequence[float]): Loss weights of the 4 aux outputs.
        norm_cfg (dict): Norm of the conv-BN-ReLU layers.
        init_cfg: Defaults to He normal (fan in) for convs, as the Keras
            ``he_normal``.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (3, 144, 240, 384, 1056, 2048),
                 decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
                 num_res_blocks: int = 2,
                 res_norm_cfg: Optional[dict] = None,
                 input_convs: int = 2,
                 final_convs: int = 2,
                 final_kernel_size: int = 3,
                 main_weight: float = 1.0,
                 aux_weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
                 in_index: Sequence[int] = (0, 1, 2, 3, 4, 5),
                 input_transform: str = 'multiple_select',
                 channels: Optional[int] = None,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg=dict(
                     type='Kaiming', layer='Conv2d', mode='fan_in'),
                 **kwargs):
        if len(in_channels) != 6 or len(decoder_channels) != 5:
            raise ValueError('OEDHead needs 6 inputs (image, s2, s4, s8, '
                             's16, s32) and 5 decoder_channels')
        if len(aux_weights) != 4:
            raise ValueError(f'4 aux outputs but aux_weights={aux_weights}')
        super().__init__(
            output_names=['main', 'aux_s16', 'aux_s8', 'aux_s4', 'aux_s2'],
            loss_weights=[main_weight, *aux_weights],
            main_index=0,
            in_channels=list(in_channels),
            channels=channels or decoder_channels[-1],
            in_index=list(in_index),
            input_transform=input_transform,
            norm_cfg=norm_cfg,
            init_cfg=init_cfg,
            **kwargs)
        act_cfg = self.act_cfg

        def cbr(c_in, c_out):
            return ConvModule(
                c_in, c_out, 3, padding=1, norm_cfg=norm_cfg,
                act_cfg=act_cfg)

        skip_channels = list(in_channels[1:5])[::-1]  # s16, s8, s4, s2
        self.stages = nn.ModuleList()
        self.aux_convs = nn.ModuleList()
        c_prev = in_channels[5]
        for c_skip, f in zip(skip_channels, decoder_channels[:4]):
            self.stages.append(
                nn.Sequential(
                    cbr(c_prev + c_skip, f), *[
                        ResidualConvBlock(f, res_norm_cfg, act_cfg)
                        for _ in range(num_res_blocks)
                    ]))
            self.aux_convs.append(nn.Conv2d(f, 1, 1))
            c_prev = f
        f = decoder_channels[4]
        self.input_stack = nn.Sequential(*[
            cbr(in_channels[0] if i == 0 else f, f)
            for i in range(input_convs)
        ])
        self.final_stack = nn.Sequential(*[
            cbr(c_prev + f if i == 0 else f, f) for i in range(final_convs)
        ])
        self.out_conv = nn.Conv2d(
            f, 1, final_kernel_size, padding=final_kernel_size // 2)

    def _decode(self, inputs):
        feats = self._transform_inputs(inputs)
        image, skips, x = feats[0], feats[1:5][::-1], feats[5]
        taps = []
        for stage, skip in zip(self.stages, skips):
            x = F.interpolate(x, size=skip.shape[2:], mode='nearest')
            x = stage(torch.cat([x, skip], dim=1))
            taps.append(x)
        x = F.interpolate(x, size=image.shape[2:], mode='nearest')
        x = torch.cat([x, self.input_stack(image)], dim=1)
        main = self.out_conv(self.final_stack(x))
        return main, taps

    def forward(self, inputs) -> Tensor:
        return self._decode(inputs)[0]

    def forward_all(self, inputs) -> List[Tensor]:
        main, taps = self._decode(inputs)
        size = main.shape[2:]
        auxs = [
            resize(
                conv(t), size=size, mode='bilinear',
                align_corners=self.align_corners)
            for conv, t in zip(self.aux_convs, taps)
        ]
        return [main] + auxs
