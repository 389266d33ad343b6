"""Side outputs and fusion of DeepCrack (Liu et al., Neurocomputing 2019)."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmseg.models.utils import resize
from torch import Tensor

from mmcrack.registry import SEG_MODELS

from ..utils.guided_filter import guided_filter
from .deep_supervision_head import DeepSupervisionHead


@SEG_MODELS.register_module()
class DeepCrackLiuHead(DeepSupervisionHead):
    """DeepCrack (Liu et al. 2019) head: 5 side outputs and their fusion.

    On each of the 5 encoder stages (:class:`DeepCrackLiuEncoder`, strides
    1..16) a 1x1 conv gives a one-channel side output, upsampled
    (bilinear) to the stride-1 size; a conv over the 5 concatenated side
    maps gives the fused map. Outputs: ``side1 .. side5, fuse``; inference
    uses ``fuse``. Deep supervision: ``side_weights`` (0.5, 0.75, 1.0, 0.75,
    0.5) and ``fuse_weight`` 1, as the paper / DeepSegmentor.

    Paper vs. published PyTorch port (DeepSegmentor): both use a 1x1 fuse
    conv (``fuse_kernel_size=1``) and BN in the encoder. The paper's Caffe
    model upsampled sides with deconvolutions; we use bilinear
    interpolation as the port does. Side and fuse convs have no bias as in
    the port (``side_bias`` / ``fuse_bias``). The port trains with a focal
    loss by default; mmcrack's configs use BCE, as for every model here
    (swap
    ``loss_decode`` to change).

    Guided filter (optional, inference only): with ``guided_filter=dict(
    enabled=True, radius=5, eps=1e-6, src_threshold=0.31)`` (``enabled``
    defaults to True; the base config carries the dict with
    ``enabled=False`` so that a child config can switch it on with
    ``guided_filter=dict(enabled=True)``) the fused probability map is
    refined by :func:`~mmcrack.models.utils.guided_filter` with the side-1
    probability as guide, as DeepSegmentor's ``tools/guided_filter.py``
    (there on 0..255 images with ``eps=0.065``, i.e. about 1e-6 on [0, 1];
    its source is the fused map binarised at 0.31). ``src_threshold=None``
    filters the soft map instead. The result is returned as a logit, so
    mmseg's sigmoid in ``postprocess_result`` gives the filtered
    probability back.

    Args:
        in_channels (Sequence[int]): Channels of the 5 stages.
        side_weights (Sequence[float]): Loss weight of each side output.
        fuse_weight (float): Loss weight of the fused output.
        side_bias (bool): Bias in the 1x1 side convs. Defaults to False.
        fuse_bias (bool): Bias in the fuse conv. Defaults to False.
        fuse_kernel_size (int): Kernel of the fuse conv. Defaults to 1.
        guided_filter (dict, optional): ``radius``, ``eps``, optional
            ``src_threshold`` and ``enabled``; None or ``enabled=False``
            disables refinement. Defaults to None.
        init_cfg: Defaults to N(0, 0.01) for side convs and 1/5 for the
            fuse conv (an average of the sides at start, as HED).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (64, 128, 256, 512, 512),
                 side_weights: Sequence[float] = (0.5, 0.75, 1.0, 0.75, 0.5),
                 fuse_weight: float = 1.0,
                 side_bias: bool = False,
                 fuse_bias: bool = False,
                 fuse_kernel_size: int = 1,
                 guided_filter: Optional[dict] = None,
                 in_index: Sequence[int] = (0, 1, 2, 3, 4),
                 input_transform: str = 'multiple_select',
                 channels: Optional[int] = None,
                 init_cfg=dict(
                     type='Normal',
                     layer='Conv2d',
                     std=0.01,
                     override=dict(type='Constant', name='fuse_conv',
                                   val=0.2)),
                 **kwargs):
        n = len(in_channels)
        if len(side_weights) != n:
            raise ValueError(f'{n} sides but side_weights={side_weights}')
        super().__init__(
            output_names=[f'side{i + 1}' for i in range(n)] + ['fuse'],
            loss_weights=[*side_weights, fuse_weight],
            main_index=n,
            in_channels=list(in_channels),
            channels=channels or n,
            in_index=list(in_index),
            input_transform=input_transform,
            init_cfg=init_cfg,
            **kwargs)
        self.side_convs = nn.ModuleList(
            nn.Conv2d(c, 1, 1, bias=side_bias) for c in in_channels)
        self.fuse_conv = nn.Conv2d(
            n, 1, fuse_kernel_size, padding=fuse_kernel_size // 2,
            bias=fuse_bias)
        if guided_filter is not None:
            guided_filter = dict(guided_filter)
            allowed = {'enabled', 'radius', 'eps', 'src_threshold'}
            if set(guided_filter) - allowed or \
                    not {'radius', 'eps'} <= set(guided_filter):
                raise ValueError('guided_filter needs radius and eps (and '
                                 'optionally src_threshold, enabled): '
                                 f'{guided_filter}')
            if not guided_filter.pop('enabled', True):
                guided_filter = None
        self.guided_filter = guided_filter

    def forward_all(self, inputs) -> List[Tensor]:
        feats = self._transform_inputs(inputs)
        size = feats[0].shape[2:]
        sides = []
        for conv, feat in zip(self.side_convs, feats):
            side = conv(feat)
            if side.shape[2:] != size:
                side = resize(
                    side, size=size, mode='bilinear',
                    align_corners=self.align_corners)
            sides.append(side)
        fused = self.fuse_conv(torch.cat(sides, dim=1))
        return sides + [fused]

    def refine(self, side1: Tensor, fused: Tensor) -> Tensor:
        """Guided-filter the fused map with side 1 as guide (logits)."""
        cfg = self.guided_filter
        src = fused.sigmoid()
        if cfg.get('src_threshold') is not None:
            src = (src >= cfg['src_threshold']).to(src.dtype)
        out = guided_filter(side1.sigmoid(), src, int(cfg['radius']),
                            float(cfg['eps']))
        return torch.logit(out.clamp(0, 1), eps=1e-6)

    def predict(self, inputs, batch_img_metas: List[dict],
                test_cfg) -> Tensor:
        if self.guided_filter is None:
            return super().predict(inputs, batch_img_metas, test_cfg)
        outs = self.forward_all(inputs)
        fused = self.refine(outs[0], outs[self.main_index])
        return self.predict_by_feat(fused, batch_img_metas)
