"""Guided filter (He et al., ECCV 2010 / TPAMI 2013) in torch.

OpenCV's ``cv2.ximgproc.guidedFilter`` lives in opencv-contrib, which the
project does not install; this is a plain torch version for a one-channel
guide, used by :class:`~mmcrack.models.decode_heads.DeepCrackLiuHead`.
"""
import torch.nn.functional as F
from torch import Tensor


def box_mean(x: Tensor, radius: int) -> Tensor:
    """Mean over the (2r+1)x(2r+1) window around each pixel.

    The window is clipped at the image border and the mean is taken over
    the pixels inside the image only. (OpenCV's filter may extrapolate the
    border instead, so results within ``radius`` of the border can differ
    slightly from it.)

    Args:
        x (Tensor): (N, C, H, W).
        radius (int): Window radius r >= 0.
    """
    if radius == 0:
        return x
    k = 2 * radius + 1
    return F.avg_pool2d(
        x, k, stride=1, padding=radius, count_include_pad=False)


def guided_filter(guide: Tensor,
                  src: Tensor,
                  radius: int,
                  eps: float) -> Tensor:
    """Edge-preserving smoothing of ``src`` guided by ``guide``.

    For each window w_k the output is locally linear in the guide,
    ``q = a_k * I + b_k`` with ``a_k = cov_k(I, p) / (var_k(I) + eps)`` and
    ``b_k = mean_k(p) - a_k * mean_k(I)``; the coefficients of all windows
    covering a pixel are averaged.

    Border handling: windows are clipped to the image and statistics taken
    over the pixels inside (no padding values enter), so a constant input
    stays constant up to the border.

    Args:
        guide (Tensor): (N, 1, H, W) guide image I, e.g. in [0, 1].
        src (Tensor): (N, C, H, W) image p to filter.
        radius (int): Window radius r.
        eps (float): Regularisation, in the squared units of ``guide``
            (for images in [0, 1], OpenCV's eps on 0..255 images divided by
            255**2; DeepSegmentor's ``eps=0.065`` on uint8 is about 1e-6).

    Returns:
        Tensor: Filtered ``src``, same shape and dtype.
    """
    assert guide.dim() == 4 and src.dim() == 4
    assert guide.size(1) == 1, 'only a one-channel guide is supported'
    assert guide.shape[-2:] == src.shape[-2:]
    dtype = src.dtype
    # float64: the variance is a difference of nearly equal means
    guide = guide.double()
    src = src.double()
    mean_i = box_mean(guide, radius)
    mean_p = box_mean(src, radius)
    cov_ip = box_mean(guide * src, radius) - mean_i * mean_p
    var_i = box_mean(guide * guide, radius) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    out = box_mean(a, radius) * guide + box_mean(b, radius)
    return out.to(dtype)
