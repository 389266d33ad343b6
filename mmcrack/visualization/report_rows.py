"""The numbers of one row of the evaluation report: an image's counts and
F1 at the dataset's ODS threshold and the crack measurements of its
prediction at that threshold.

The prediction is thresholded by the evaluation's own rule (``p >= t`` in
float64, :func:`mmcrack.evaluation.functional.threshold_bins`), so the
counts equal those of :func:`mmcrack.evaluation.folder_counts` at the ODS
threshold and, in ``f1_mode='mean'``, the rows' F1 average to the ODS.
"""
from dataclasses import asdict, dataclass
from typing import Dict, Optional, Tuple

import cv2
import numpy as np

from mmcrack.analysis import measure_cracks
from mmcrack.evaluation.functional import prf_from_counts, threshold_bins

__all__ = [
    'MIN_AREA_PX', 'MAX_MEASURED_CRACKS', 'MAX_MEASURED_FRACTION',
    'ReportRow', 'threshold_map', 'drop_specks',
    'measure_prediction', 'report_row'
]

# Components of fewer pixels are specks, not cracks: they are left out of
# the measurements (not of the counts or the overlay). A noisy soft map
# thresholded at its ODS has hundreds of them per image.
MIN_AREA_PX = 20
# A thresholded prediction with more cracks than this, or covering more of
# the image, is not a crack map (a noise floor, a binarised texture):
# its cracks are counted but not measured, which would cost seconds per
# image (a skeleton and a graph per crack) for numbers without meaning.
MAX_MEASURED_CRACKS = 30
MAX_MEASURED_FRACTION = 0.25


@dataclass
class ReportRow:
    """One image of the report.

    Attributes:
        stem: file stem.
        tp, fp, fn: pixel counts at the threshold.
        precision, recall, f1: from the counts, in [0, 1] (P = 1 without
            predicted crack, R = 1 without ground-truth crack, F1 = 0 when
            P + R = 0: the conventions of ``prf_from_counts``).
        cracks: cracks (8-connected components of at least
            ``MIN_AREA_PX`` px) of the thresholded prediction.
        total_length_px: sum of their centre-line lengths, px; None when
            not measured (see :func:`measure_prediction`).
        max_width_px: the largest width of any of them, px (0 without
            cracks); None when not measured.
    """
    stem: str
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    cracks: int
    total_length_px: Optional[float]
    max_width_px: Optional[float]

    def as_dict(self) -> Dict:
        """The fields as a plain dict (for JSON)."""
        return asdict(self)


def threshold_map(prob: np.ndarray, threshold: float) -> np.ndarray:
    """Predicted crack at ``threshold``, by the metric's rule.

    Args:
        prob: ``(H, W)`` float in [0, 1] or uint8 0..255 (``v / 255``).
        threshold: in [0, 1]; a pixel is crack when ``p >= threshold``
            (float64 comparison).

    Returns:
        bool ``(H, W)``.
    """
    return threshold_bins(prob, [float(threshold)]) > 0


def _components(mask: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    _, labels, stats, _ = cv2.connectedComponentsWithStats(
        mask.view(np.uint8), connectivity=8)
    return labels, stats[:, cv2.CC_STAT_AREA]


def drop_specks(mask: np.ndarray, min_area: int = MIN_AREA_PX) -> np.ndarray:
    """``mask`` without its 8-connected components of fewer than
    ``min_area`` pixels.

    Args:
        mask: bool ``(H, W)``.
        min_area: px, >= 0 (0 or 1 keep everything).

    Returns:
        bool ``(H, W)``.
    """
    mask = np.ascontiguousarray(mask, dtype=bool)
    if min_area <= 1 or not mask.any():
        return mask.copy()
    labels, area = _components(mask)
    keep = area >= min_area
    keep[0] = False
    return keep[labels]


def measure_prediction(mask: np.ndarray,
                       min_area: int = MIN_AREA_PX,
                       max_cracks: int = MAX_MEASURED_CRACKS,
                       max_fraction: float = MAX_MEASURED_FRACTION
                       ) -> Dict[str, object]:
    """Count, total length and largest width of the cracks of a mask
    (:func:`mmcrack.analysis.measure_cracks`, default options: cracks are
    8-connected components), specks of fewer than ``min_area`` px left
    out.

    Args:
        mask: bool ``(H, W)``.
        min_area: px, see :func:`drop_specks`.
        max_cracks: more cracks than this: counted, not measured.
        max_fraction: cracks covering more than this share of the image
            (in [0, 1]): counted, not measured.

    Returns:
        dict ``cracks`` (int), ``total_length_px`` and ``max_width_px``
        (floats, px; 0 without cracks; None when not measured).
    """
    kept = drop_specks(mask, min_area)
    labels, area = _components(kept)
    n = len(area) - 1
    if n > max_cracks or area[1:].sum() > max_fraction * kept.size:
        return dict(cracks=n, total_length_px=None, max_width_px=None)
    cracks = measure_cracks(kept).cracks
    return dict(cracks=len(cracks),
                total_length_px=float(sum(c.length_px for c in cracks)),
                max_width_px=float(max((c.max_width_px for c in cracks),
                                       default=0.0)))


def report_row(stem: str,
               prob: np.ndarray,
               gt: np.ndarray,
               threshold: float,
               min_area: int = MIN_AREA_PX) -> Tuple[ReportRow, np.ndarray]:
    """Score and measure one image at ``threshold``.

    Args:
        stem: file stem.
        prob: ``(H, W)`` prediction, float in [0, 1] or uint8 ``v / 255``.
        gt: ``(H, W)`` ground truth, bool or {0, 1}.
        threshold: the ODS threshold, in [0, 1].
        min_area: specks left out of the measurements, px.

    Returns:
        ``(row, mask)``: the :class:`ReportRow` and the thresholded
        prediction (bool ``(H, W)``).
    """
    gt = np.asarray(gt).astype(bool)
    if np.shape(prob) != gt.shape:
        raise ValueError(f'{stem}: prediction is {np.shape(prob)} but the '
                         f'ground truth is {gt.shape}')
    mask = threshold_map(prob, threshold)
    tp = int(np.count_nonzero(mask & gt))
    fp = int(np.count_nonzero(mask)) - tp
    fn = int(np.count_nonzero(gt)) - tp
    p, r, f = (float(v) for v in prf_from_counts(np.array([tp, fp, fn])))
    return ReportRow(stem, tp, fp, fn, p, r, f,
                     **measure_prediction(mask, min_area)), mask
