"""EfficientNet feature taps for the OED decoder (König et al., DSP 2021)."""
import copy
from typing import List, Tuple

from mmengine.model import BaseModule
from torch import Tensor

from mmcrack.registry import SEG_MODELS


@SEG_MODELS.register_module()
class EfficientNetSkips(BaseModule):
    """Skip features at strides 2/4/8/16/32 from an EfficientNet encoder.

    Wraps mmpretrain's ``EfficientNet`` (built through the registry, e.g.
    ``encoder=dict(type='mmpretrain.EfficientNet', arch='b5')``; any of
    ``b0``..``b8``) or mmcrack's
    :class:`~mmcrack.models.backbones.EfficientNetLite`
    (``encoder=dict(type='EfficientNetLite', arch='lite0')``; ``lite0``..
    ``lite2``, same module layout) and returns::

        (input, skip_s2, skip_s4, skip_s8, skip_s16, top_s32)

    ``input`` (only with ``with_input=True``) is the normalised image, for
    OED's full-resolution conv stack. ``top_s32`` is the output of the final
    1x1 conv of EfficientNet (Keras ``top_activation``).

    ``skip_source`` chooses the skips:

    * ``'expand'`` (default, as the OED code): the *expansion activations*
      of the first block of the next stage, i.e. Keras
      ``block2a/3a/4a/6a_expand_activation``; they are at the resolution of
      the previous stage and 6x its width.
    * ``'block'``: the stage outputs (``EfficientNet(out_indices=(1, 2, 3,
      4))``, what timm's ``features_only`` gives); far fewer channels.

    Channels for ``with_input`` + ``'expand'``: b0 (3, 96, 144, 240, 672,
    1280), b1 same as b0, b2 (3, 96, 144, 288, 720, 1408), b3 (3, 144, 192,
    288, 816, 1536), b4 (3, 144, 192, 336, 960, 1792), b5 (3, 144, 240, 384,
    1056, 2048). For ``'block'``: b0 and b1 (3, 16, 24, 40, 112, 1280), b2
    (3, 16, 24, 48, 120, 1408), b3 (3, 24, 32, 48, 136, 1536), b4 (3, 24,
    32, 56, 160, 1792), b5 (3, 24, 40, 64, 176, 2048). :attr:`out_channels`
    holds the built values.

    EfficientNet-Lite has the same taps — the expand conv + BN + ReLU6 of
    ``layers[2..5][0]`` (Lite's ``_blocks.1/3/5/11._expand_conv`` of lite0)
    and the 1280-channel head conv + BN + ReLU6 (``layers[6]``, Lite's
    ``_conv_head``). Channels with ``'expand'``: lite0 and lite1 (3, 96,
    144, 240, 672, 1280), lite2 (3, 96, 144, 288, 720, 1280); with
    ``'block'``: lite0 and lite1 (3, 16, 24, 40, 112, 1280), lite2 (3, 16,
    24, 48, 120, 1280). Lite keeps its head at 1280 for every width.

    mmpretrain's EfficientNet pads like TensorFlow ('same'), so every stride
    halves the size rounding up; the OED head matches sizes when
    upsampling, so no input size divisibility is needed.

    Args:
        encoder (dict): Config of the EfficientNet; its ``out_indices`` is
            set here.
        skip_source (str): ``'expand'`` or ``'block'``.
        with_input (bool): Prepend the input image to the outputs.
        init_cfg: Put ``Pretrained`` weights on ``encoder`` itself.
    """

    # index in EfficientNet.layers of the stages at strides 2, 4, 8, 16, 32
    _STAGE_OF_STRIDE = (1, 2, 3, 4, 5)
    _TOP = 6

    def __init__(self,
                 encoder: dict = dict(type='mmpretrain.EfficientNet',
                                      arch='b5'),
                 skip_source: str = 'expand',
                 with_input: bool = True,
                 init_cfg=None):
        super().__init__(init_cfg)
        assert skip_source in ('expand', 'block'), skip_source
        encoder = copy.deepcopy(dict(encoder))
        arch = encoder.get('arch', 'b0')
        assert arch.startswith(('b', 'lite')), \
            f'only EfficientNet b0..b8 and lite0..lite2 are supported, ' \
            f'got {arch}'
        # taps are read by forward hooks; a checkpointed block would run its
        # expansion conv without grad, cutting the skip's gradient
        assert not (skip_source == 'expand' and encoder.get('with_cp')), \
            "with_cp=True is not supported with skip_source='expand'"
        self.skip_source = skip_source
        self.with_input = with_input
        if skip_source == 'block':
            encoder['out_indices'] = (*self._STAGE_OF_STRIDE[:4], self._TOP)
        else:
            encoder['out_indices'] = (self._TOP, )
        self.encoder = SEG_MODELS.build(encoder)

        self._taps: List[Tensor] = []
        channels = []
        if skip_source == 'expand':
            for stage in self._STAGE_OF_STRIDE[1:]:
                block = self.encoder.layers[stage][0]
                assert getattr(block, 'with_expand_conv', False), \
                    f'block {stage}.0 of {arch} has no expansion conv'
                block.expand_conv.register_forward_hook(self._keep)
                channels.append(block.expand_conv.conv.out_channels)
        else:
            for stage in self._STAGE_OF_STRIDE[:4]:
                channels.append(
                    self.encoder.layers[stage][-1].linear_conv.conv.
                    out_channels)
        channels.append(self.encoder.out_channels)
        self.out_channels = tuple(([3] if with_input else []) + channels)

    def _keep(self, module, args, output):
        self._taps.append(output)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        self._taps = []
        feats = list(self.encoder(x))
        if self.skip_source == 'expand':
            feats = self._taps[:4] + feats
        self._taps = []
        if self.with_input:
            feats = [x] + feats
        return tuple(feats)
