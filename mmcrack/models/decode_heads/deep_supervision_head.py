"""Base class of binary decode heads with deeply supervised outputs."""
from abc import abstractmethod
from typing import List, Sequence

import torch
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.utils import SampleList
from torch import Tensor


class DeepSupervisionHead(BaseDecodeHead):
    """A binary (one sigmoid channel) head with several supervised outputs.

    Subclasses build their layers and implement :meth:`forward_all`, which
    returns one logit map (N, 1, h, w) per name in ``output_names``, e.g.
    ``side1 .. side5, fuse``. Then

    * :meth:`forward` (inference, ``mode='tensor'``) returns only the main
      output ``output_names[main_index]``;
    * :meth:`loss` computes every output and :meth:`loss_by_feat` applies
      every loss in ``loss_decode`` to every output, resized to the label
      size, times that output's weight in ``loss_weights``. The returned
      keys are ``f'{loss.loss_name}_{output_name}'`` (e.g. ``loss_ce_side1``
      ... ``loss_ce_fuse``); mmengine sums all keys containing ``loss``.
      Outputs with weight 0 are skipped. ``acc_seg`` is the pixel accuracy
      (%) of the main output thresholded at ``threshold`` over non-ignored
      pixels (mmseg's top-1 ``accuracy`` is meaningless with one channel).

    The base ``conv_seg`` / dropout of :class:`BaseDecodeHead` are unused
    and removed. ``out_channels`` must be 1 and the losses must take logits
    (e.g. ``CrossEntropyLoss(use_sigmoid=True)``, ``BinaryDiceLoss``).
    Labels are 0/1 with ``ignore_index`` (255) ignored.

    Args:
        output_names (Sequence[str]): Names of the outputs of
            :meth:`forward_all`, in order.
        loss_weights (Sequence[float]): Loss weight of each output.
        main_index (int): Index of the output used for inference.
        threshold (float): Probability threshold of ``pred_sem_seg``.
            Defaults to 0.5.
        **kwargs: Passed to :class:`BaseDecodeHead` (``in_channels``,
            ``channels``, ``in_index``, ``input_transform``,
            ``loss_decode``, ``norm_cfg`` ...).
    """

    def __init__(self,
                 output_names: Sequence[str],
                 loss_weights: Sequence[float],
                 main_index: int,
                 num_classes: int = 2,
                 out_channels: int = 1,
                 threshold: float = 0.5,
                 dropout_ratio: float = 0.,
                 **kwargs):
        if out_channels != 1:
            raise ValueError(f'{type(self).__name__} is binary: '
                             f'out_channels must be 1, got {out_channels}')
        super().__init__(
            num_classes=num_classes,
            out_channels=out_channels,
            threshold=threshold,
            dropout_ratio=dropout_ratio,
            **kwargs)
        if len(output_names) != len(loss_weights):
            raise ValueError(f'{len(output_names)} outputs {output_names} '
                             f'but {len(loss_weights)} loss weights')
        if self.sampler is not None:
            raise NotImplementedError('pixel samplers are not supported')
        del self.conv_seg
        self.output_names = tuple(output_names)
        self.loss_weights = tuple(float(w) for w in loss_weights)
        self.main_index = main_index % len(self.output_names)

    @abstractmethod
    def forward_all(self, inputs) -> List[Tensor]:
        """All outputs (logits), in the order of ``output_names``."""

    def forward(self, inputs) -> Tensor:
        """The main output (logits) only."""
        return self.forward_all(inputs)[self.main_index]

    def loss(self, inputs, batch_data_samples: SampleList,
             train_cfg) -> dict:
        return self.loss_by_feat(self.forward_all(inputs), batch_data_samples)

    def _losses(self) -> nn.ModuleList:
        if isinstance(self.loss_decode, nn.ModuleList):
            return self.loss_decode
        return nn.ModuleList([self.loss_decode])

    def loss_by_feat(self, seg_logits: Sequence[Tensor],
                     batch_data_samples: SampleList) -> dict:
        """Weighted losses of all outputs.

        Args:
            seg_logits (Sequence[Tensor]): Outputs of :meth:`forward_all`.
            batch_data_samples (list[SegDataSample]): With ``gt_sem_seg``.
        """
        if isinstance(seg_logits, Tensor) or \
                len(seg_logits) != len(self.output_names):
            raise ValueError(f'expected the {len(self.output_names)} '
                             f'outputs {self.output_names}')
        seg_label = self._stack_batch_gt(batch_data_samples)
        size = seg_label.shape[2:]
        seg_label = seg_label.squeeze(1)
        losses = dict()
        for name, weight, logit in zip(self.output_names, self.loss_weights,
                                       seg_logits):
            if weight == 0:
                continue
            logit = self._to_size(logit, size)
            for loss_fn in self._losses():
                losses[f'{loss_fn.loss_name}_{name}'] = weight * loss_fn(
                    logit, seg_label, weight=None,
                    ignore_index=self.ignore_index)
        main = self._to_size(seg_logits[self.main_index], size)
        losses['acc_seg'] = self._binary_accuracy(main, seg_label)
        return losses

    def _to_size(self, logit: Tensor, size) -> Tensor:
        if logit.shape[2:] == size:
            return logit
        return resize(
            logit, size=size, mode='bilinear',
            align_corners=self.align_corners)

    @torch.no_grad()
    def _binary_accuracy(self, logit: Tensor, label: Tensor) -> Tensor:
        valid = label != self.ignore_index
        pred = (logit[:, 0].sigmoid() > self.threshold).long()
        correct = (pred == label) & valid
        return correct.sum().float() * 100 / valid.sum().clamp(min=1)
