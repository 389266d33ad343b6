"""Geometry helpers of the crack measurements: orientation classes,
principal axes, polyline lengths, width rays (definitions in
``docs/measurement.md``)."""
import cv2
import numpy as np
from scipy import ndimage as ndi

#: step along a width ray, px
RAY_STEP = 0.25


def orientation_class(angle_deg: float, axis_tol_deg: float = 22.5,
                      longitudinal_axis: str = 'y') -> str:
    """Orientation class of a principal-axis angle.

    Args:
        angle_deg: degrees counter-clockwise from the image x axis (any
            value; taken modulo 180).
        axis_tol_deg: half width of the transverse and longitudinal bins,
            degrees in (0, 45]. 22.5 bins each angle to the nearest of
            0, 45, 90, 135 degrees (45 and 135 are ``diagonal``).
        longitudinal_axis: the image axis that runs along the road,
            ``'y'`` (default) or ``'x'``.

    Returns:
        ``'transverse'``, ``'longitudinal'`` or ``'diagonal'``.
    """
    if not 0 < axis_tol_deg <= 45:
        raise ValueError(f'axis_tol_deg must be in (0, 45], got '
                         f'{axis_tol_deg}')
    if longitudinal_axis not in ('x', 'y'):
        raise ValueError("longitudinal_axis must be 'x' or 'y', got "
                         f'{longitudinal_axis!r}')
    a = float(angle_deg) % 180.0
    from_x = min(a, 180.0 - a)
    along_x, along_y = ('transverse', 'longitudinal')
    if longitudinal_axis == 'x':
        along_x, along_y = along_y, along_x
    if from_x <= axis_tol_deg:
        return along_x
    if abs(a - 90.0) <= axis_tol_deg:
        return along_y
    return 'diagonal'


def principal_angle(rows: np.ndarray, cols: np.ndarray) -> float:
    """Angle of the principal axis of pixels (int (N,) rows and cols),
    degrees in [0, 180) counter-clockwise from the image x axis."""
    if len(rows) < 2:
        return 0.0
    x = cols - cols.mean()
    y = -(rows - rows.mean())  # y up, as displayed
    cov = np.cov(np.stack([x, y]))
    vals, vecs = np.linalg.eigh(cov)
    vx, vy = vecs[:, np.argmax(vals)]
    return float(np.degrees(np.arctan2(vy, vx)) % 180.0)


def width_rays(inside: np.ndarray, points: np.ndarray, dirs: np.ndarray,
          max_len: float) -> np.ndarray:
    """Distance from each point along its direction to where the bilinear
    interpolation of ``inside`` (float (H, W), 1 crack) falls below 0.5.

    Args:
        points: float (N, 2) ``(row, col)``; dirs: float (N, 2) unit.
    """
    if len(points) == 0:
        return np.zeros(0)
    t = np.arange(0.0, max_len + RAY_STEP, RAY_STEP)
    rr = points[:, :1] + dirs[:, :1] * t
    cc = points[:, 1:] + dirs[:, 1:] * t
    val = ndi.map_coordinates(inside, [rr.ravel(), cc.ravel()], order=1,
                              mode='constant', cval=0.0).reshape(rr.shape)
    below = val < 0.5
    below[:, -1] = True
    k = np.argmax(below, axis=1)
    k = np.maximum(k, 1)
    n = np.arange(len(points))
    v0, v1 = val[n, k - 1], val[n, k]
    frac = np.where(v0 > v1, (v0 - 0.5) / np.maximum(v0 - v1, 1e-12), 0.0)
    return t[k - 1] + np.clip(frac, 0.0, 1.0) * RAY_STEP


def polyline_length(points_rc: np.ndarray, closed: bool) -> float:
    """Length of a polyline of (N, 2) ``(row, col)`` points."""
    pts = points_rc[:, ::-1].astype(np.float32).reshape(-1, 1, 2)
    if len(pts) < 2:
        return 0.0
    return float(cv2.arcLength(pts, closed))


def simplified_length(points_rc: np.ndarray, closed: bool,
                      eps: float) -> float:
    """Length of a pixel chain after Douglas-Peucker simplification with
    tolerance ``eps`` px (``cv2.approxPolyDP``; 0: the chain itself)."""
    if len(points_rc) < 3 or eps <= 0:
        return polyline_length(points_rc, closed)
    if not closed and (points_rc[0] == points_rc[-1]).all():
        points_rc, closed = points_rc[:-1], True
    pts = points_rc[:, ::-1].astype(np.int32).reshape(-1, 1, 2)
    simple = cv2.approxPolyDP(pts, eps, closed).reshape(-1, 2)
    return polyline_length(simple[:, ::-1], closed)


def unit_vectors(v: np.ndarray) -> np.ndarray:
    """Rows of ``v`` (float (N, 2)) scaled to length 1 (zero rows stay
    0)."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.where(n > 0, v / np.maximum(n, 1e-12), 0.0)
