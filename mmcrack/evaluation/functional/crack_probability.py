"""Crack probability map from mmseg's ``seg_logits`` (one image).

Shared by :class:`mmcrack.evaluation.CrackMetric` and
:class:`mmcrack.apis.CrackInferencer`, so that the metric scores exactly the
maps the inferencer writes. Computed in numpy (torch is not imported here;
torch tensors are moved to the CPU): small torch CPU ops can cost
milliseconds each when the intra-op thread pool competes with other
processes.
"""
import sys
from typing import Optional

import numpy as np

from .crack_pr import check_prob_map

__all__ = ['seg_logits_to_prob', 'to_numpy']


def to_numpy(data) -> np.ndarray:
    """A torch tensor or array-like as a numpy array.

    Tensors are detached and moved to the CPU, float16 / bfloat16 made
    float32; numpy arrays and other CPU tensors are not copied.

    Args:
        data: ``torch.Tensor`` of any shape and dtype, or anything
            ``np.asarray`` takes.
    """
    torch = sys.modules.get('torch')  # a tensor implies torch is imported
    if torch is not None and isinstance(data, torch.Tensor):
        data = data.detach().cpu()
        if data.dtype in (torch.float16, torch.bfloat16):
            data = data.float()
        return data.numpy()
    return np.asarray(data)


def seg_logits_to_prob(seg_logits,
                       crack_index: int = 1,
                       name: Optional[str] = None) -> np.ndarray:
    """Crack probability from an mmseg ``seg_logits`` tensor.

    Args:
        seg_logits: ``(C, H, W)`` tensor (any device) or array as stored by
            mmseg's ``BaseSegmentor.postprocess_result``: for ``C == 1``
            already sigmoid probabilities in ``[0, 1]``; for ``C >= 2`` raw
            logits (any finite float values).
        crack_index: channel of the crack class when ``C >= 2``, in
            ``0..C-1``.
        name: image name for error messages.

    Returns:
        float ``(H, W)`` in ``[0, 1]`` (checked: no NaN/inf): for ``C == 1``
        the channel itself (float32 or float64 as given, other dtypes made
        float32; no copy for a CPU float32 tensor); for ``C >= 2`` the
        softmax over channels at ``crack_index``, computed in float64 (for
        ``C == 2``: ``1 / (1 + exp(l_other - l_crack))``) and rounded to
        float32.

    Raises:
        ValueError: ``seg_logits`` not 3-D; a 1-channel map with values
            outside ``[0, 1]`` or NaN (raw logits instead of
            probabilities); ``crack_index`` not a channel; NaN/inf logits.
            Messages name ``name``.
    """
    where = f'{name}: ' if name else ''
    x = to_numpy(seg_logits)
    if x.ndim != 3:
        raise ValueError(f'{where}seg_logits must be (C, H, W), got shape '
                         f'{tuple(x.shape)}')
    if x.shape[0] == 1:
        prob = x[0]
        if prob.dtype != np.float32 and prob.dtype != np.float64:
            prob = prob.astype(np.float32)
        lo, hi = prob.min(), prob.max()
        if not (lo >= 0 and hi <= 1):  # NaN fails too
            raise ValueError(
                f'{where}1-channel seg_logits hold values in [{lo:.4g}, '
                f'{hi:.4g}], not probabilities. mmseg applies the sigmoid '
                'for out_channels=1 in postprocess_result; raw logits '
                'reached the metric (custom segmentor or predict path?).')
        return prob
    if not 0 <= crack_index < x.shape[0]:
        raise ValueError(f'{where}crack_index={crack_index} but seg_logits '
                         f'has {x.shape[0]} channels')
    x = x.astype(np.float64)
    if x.shape[0] == 2:
        with np.errstate(over='ignore'):
            prob = 1.0 / (1.0 + np.exp(x[1 - crack_index] - x[crack_index]))
    else:
        e = np.exp(x - x.max(axis=0, keepdims=True))
        prob = e[crack_index] / e.sum(axis=0)
    # NaN/inf logits give NaN probabilities: refuse them here
    return check_prob_map(prob.astype(np.float32), name)
