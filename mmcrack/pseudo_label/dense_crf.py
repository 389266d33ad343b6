"""Fully connected CRF refinement of a crack-probability map.

Building block of the "CRF labels" baseline (Dong et al.): a Grad-CAM map of
the crack-patch classifier is refined by a dense CRF (Krähenbühl & Koltun,
2011) over the RGB image into a binary crack label. :func:`dense_crf` wraps
``pydensecrf2`` (installed by ``make install``): a 2-label unary
``-log(1 - p), -log(p)``, a Gaussian (smoothness) kernel and a bilateral
(appearance) kernel with Potts compatibilities, ``iterations`` steps of
mean-field inference. :class:`DenseCRFSettings` names the parameters so a
preset file or a grid search can set them.
"""
import dataclasses
from dataclasses import dataclass
from typing import Optional, Tuple, Union

import numpy as np

__all__ = ['DenseCRFSettings', 'dense_crf']


@dataclass(frozen=True)
class DenseCRFSettings:
    """Parameters of :func:`dense_crf`.

    Defaults are pydensecrf's reference example values (Gaussian
    ``sxy=3, compat=3``; bilateral ``sxy=80, srgb=13, compat=10``) with
    5 mean-field iterations.

    Attributes:
        gaussian_sxy: spatial std-dev of the Gaussian kernel in px (> 0).
        gaussian_compat: weight of the Gaussian kernel (Potts, >= 0; 0
            drops the kernel).
        bilateral_sxy: spatial std-dev of the bilateral kernel in px (> 0).
        bilateral_srgb: colour std-dev of the bilateral kernel in 0..255
            RGB units (> 0).
        bilateral_compat: weight of the bilateral kernel (Potts, >= 0; 0
            drops the kernel).
        iterations: mean-field iterations (>= 0; 0 returns the unary's
            softmax).
        eps: the probabilities are clipped to ``[eps, 1 - eps]`` before the
            log, so p = 0 or 1 gives a finite unary (0 < eps < 0.5).
    """
    gaussian_sxy: float = 3.0
    gaussian_compat: float = 3.0
    bilateral_sxy: float = 80.0
    bilateral_srgb: float = 13.0
    bilateral_compat: float = 10.0
    iterations: int = 5
    eps: float = 1e-5

    def __post_init__(self):
        for name in ('gaussian_sxy', 'bilateral_sxy', 'bilateral_srgb'):
            if not getattr(self, name) > 0:
                raise ValueError(f'{name} must be > 0, '
                                 f'got {getattr(self, name)!r}')
        for name in ('gaussian_compat', 'bilateral_compat'):
            if not getattr(self, name) >= 0:
                raise ValueError(f'{name} must be >= 0, '
                                 f'got {getattr(self, name)!r}')
        if (isinstance(self.iterations, bool)
                or int(self.iterations) != self.iterations
                or self.iterations < 0):
            raise ValueError('iterations must be an integer >= 0, '
                             f'got {self.iterations!r}')
        if not 0 < self.eps < 0.5:
            raise ValueError(f'eps must be in (0, 0.5), got {self.eps!r}')


def _densecrf_module():
    try:
        import pydensecrf.densecrf as dcrf
    except ImportError as exc:
        raise ImportError(
            'dense_crf needs the pydensecrf2 package (module pydensecrf), '
            "which is not installed; run 'make install' (tools/install.sh "
            'builds and caches its wheel)') from exc
    return dcrf


def _check_inputs(prob, img_rgb):
    prob = np.asarray(prob)
    img_rgb = np.asarray(img_rgb)
    if prob.ndim != 2:
        raise ValueError(f'prob must be (H, W), got shape {prob.shape}')
    if not (np.issubdtype(prob.dtype, np.floating)
            or np.issubdtype(prob.dtype, np.integer)):
        raise TypeError(f'prob must be a float array, got {prob.dtype}')
    if img_rgb.ndim != 3 or img_rgb.shape[2] != 3:
        raise ValueError('img_rgb must be (H, W, 3), got shape '
                         f'{img_rgb.shape}')
    if img_rgb.dtype != np.uint8:
        raise TypeError(f'img_rgb must be uint8, got {img_rgb.dtype}')
    if img_rgb.shape[:2] != prob.shape:
        raise ValueError(f'prob {prob.shape} and img_rgb '
                         f'{img_rgb.shape[:2]} differ in (H, W)')
    if prob.size == 0:
        raise ValueError('prob is empty')
    prob = prob.astype(np.float64)
    if not np.isfinite(prob).all() or prob.min() < 0 or prob.max() > 1:
        raise ValueError('prob must be finite and in [0, 1], got range '
                         f'[{np.nanmin(prob)}, {np.nanmax(prob)}]')
    return prob, np.ascontiguousarray(img_rgb)


def dense_crf(
    prob: np.ndarray,
    img_rgb: np.ndarray,
    settings: Optional[DenseCRFSettings] = None,
    return_prob: bool = False,
    **overrides,
) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
    """Binary crack label from a probability map by a dense CRF.

    Unary energies ``(-log(1 - p), -log(p))`` with ``p`` clipped to
    ``[eps, 1 - eps]`` (computed in float64, passed as float32); pairwise
    ``gaussian_compat * k_G + bilateral_compat * k_B`` with
    ``k_G = exp(-|dx|^2 / (2 gaussian_sxy^2))`` and
    ``k_B = exp(-|dx|^2 / (2 bilateral_sxy^2) - |dI|^2 /
    (2 bilateral_srgb^2))`` (pydensecrf: Potts, diagonal kernel, symmetric
    normalisation; a kernel with weight 0 is not added); ``iterations``
    mean-field steps. Deterministic.

    Args:
        prob: (H, W) crack probability, float (any float dtype; integer 0/1
            accepted) in [0, 1].
        img_rgb: (H, W, 3) uint8 RGB image (the bilateral kernel's colours).
        settings: CRF parameters; default ``DenseCRFSettings()``.
        return_prob: also return the posterior crack probability.
        **overrides: fields of :class:`DenseCRFSettings` replacing those of
            ``settings`` (e.g. ``iterations=10``); an unknown name raises
            ``TypeError``.

    Returns:
        (H, W) uint8 label in {0, 1}: 1 where the posterior crack
        probability exceeds the background's (ties give 0); with
        ``return_prob`` also the (H, W) float32 posterior P(crack) in
        [0, 1].

    Raises:
        ValueError: shapes that are not (H, W) / (H, W, 3) or differ,
            ``prob`` outside [0, 1] or not finite, bad settings.
        TypeError: ``img_rgb`` not uint8, ``prob`` not numeric.
        ImportError: pydensecrf2 is not installed.
    """
    settings = settings or DenseCRFSettings()
    if overrides:
        settings = dataclasses.replace(settings, **overrides)
    prob, img_rgb = _check_inputs(prob, img_rgb)
    dcrf = _densecrf_module()
    h, w = prob.shape
    p = np.clip(prob, settings.eps, 1 - settings.eps).reshape(1, -1)
    unary = np.ascontiguousarray(
        -np.log(np.concatenate([1 - p, p])), dtype=np.float32)
    crf = dcrf.DenseCRF2D(w, h, 2)
    crf.setUnaryEnergy(unary)
    if settings.gaussian_compat > 0:
        crf.addPairwiseGaussian(sxy=float(settings.gaussian_sxy),
                                compat=float(settings.gaussian_compat),
                                kernel=dcrf.DIAG_KERNEL,
                                normalization=dcrf.NORMALIZE_SYMMETRIC)
    if settings.bilateral_compat > 0:
        crf.addPairwiseBilateral(sxy=float(settings.bilateral_sxy),
                                 srgb=float(settings.bilateral_srgb),
                                 rgbim=img_rgb,
                                 compat=float(settings.bilateral_compat),
                                 kernel=dcrf.DIAG_KERNEL,
                                 normalization=dcrf.NORMALIZE_SYMMETRIC)
    q = np.asarray(crf.inference(int(settings.iterations)), np.float32)
    q = q.reshape(2, h, w)
    label = (q[1] > q[0]).astype(np.uint8)
    if return_prob:
        return label, np.clip(q[1], 0, 1)
    return label
