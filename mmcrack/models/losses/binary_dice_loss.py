"""Dice loss for one-channel (sigmoid) binary segmentation."""
from typing import Optional

import torch.nn as nn
from torch import Tensor

from mmcrack.registry import SEG_MODELS


@SEG_MODELS.register_module()
class BinaryDiceLoss(nn.Module):
    """Soft Dice loss on ``sigmoid(logits)`` against 0/1 labels.

    ``loss = 1 - (2 * sum(p * t) + smooth) / (sum(p) + sum(t) + smooth)``

    Why not mmseg's ``DiceLoss``: in mmseg 1.2.2, with a one-channel
    prediction it one-hot encodes the label with ``num_classes=1`` and keeps
    channel 0, i.e. the *background* indicator, so it pushes
    ``sigmoid(logit)`` towards background; and its ``ignore_index`` drops a
    *class channel*, not pixels, so label-255 pixels are counted as
    foreground. This loss masks ignored pixels and scores the foreground.

    Args:
        smooth (float): Added to numerator and denominator. 1 as OED's
            ``ce_dice_loss``. Defaults to 1.0.
        batch_dice (bool): ``True`` computes one Dice over the whole batch
            (as OED's Keras loss, which flattens the batch); ``False``
            computes one Dice per image and averages. Defaults to True.
        loss_weight (float): Multiplier. Defaults to 1.0.
        ignore_index (int): Label value to ignore, used when the caller does
            not pass one. Defaults to 255.
        loss_name (str): Name in the loss dict; must start with ``loss_``
            to be summed. Defaults to 'loss_dice'.
    """

    def __init__(self,
                 smooth: float = 1.0,
                 batch_dice: bool = True,
                 loss_weight: float = 1.0,
                 ignore_index: int = 255,
                 loss_name: str = 'loss_dice'):
        super().__init__()
        self.smooth = smooth
        self.batch_dice = batch_dice
        self.loss_weight = loss_weight
        self.ignore_index = ignore_index
        self._loss_name = loss_name

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: Optional[int] = None,
                **kwargs) -> Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): Logits, (N, 1, H, W) or (N, H, W).
            target (Tensor): Labels in {0, 1, ignore_index}, (N, H, W) or
                (N, 1, H, W).
            weight (Tensor, optional): Pixel weights, shaped like target.
            ignore_index (int, optional): Overrides ``self.ignore_index``.
        """
        if pred.dim() == 4:
            assert pred.size(1) == 1, \
                f'BinaryDiceLoss needs one channel, got {pred.size(1)}'
            pred = pred[:, 0]
        if target.dim() == 4:
            target = target[:, 0]
        assert pred.shape == target.shape, (pred.shape, target.shape)
        if ignore_index is None:
            ignore_index = self.ignore_index
        valid = (target != ignore_index).to(pred.dtype)
        if weight is not None:
            valid = valid * weight.reshape(valid.shape).to(pred.dtype)
        prob = pred.float().sigmoid() * valid
        fg = (target == 1).to(prob.dtype) * valid
        dims = (0, 1, 2) if self.batch_dice else (1, 2)
        inter = (prob * fg).sum(dims)
        denom = prob.sum(dims) + fg.sum(dims)
        dice = (2 * inter + self.smooth) / (denom + self.smooth)
        return self.loss_weight * (1 - dice).mean()

    @property
    def loss_name(self) -> str:
        return self._loss_name
