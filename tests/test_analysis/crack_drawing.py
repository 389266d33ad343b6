"""Synthetic cracks of known geometry for the measurement tests.

A stroke of width ``w`` along a polyline is the set of pixels whose centre
lies within ``w / 2`` of the polyline (rounded ends, like a pen): its
centre-line length is the polyline's length and its width is ``w``.
"""
import numpy as np


def stroke(shape, points, width):
    """bool (H, W): pixels whose centre is within ``width / 2`` of the
    polyline ``points`` (``[(x, y), ...]``, float px)."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    best = np.full(shape, np.inf)
    pts = np.asarray(points, np.float64)
    for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
        dx, dy = x1 - x0, y1 - y0
        t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / (dx * dx + dy * dy),
                    0.0, 1.0)
        best = np.minimum(best, np.hypot(xx - x0 - t * dx, yy - y0 - t * dy))
    return best <= width / 2.0


def polyline_length(points):
    pts = np.asarray(points, np.float64)
    return float(np.hypot(*np.diff(pts, axis=0).T).sum())


def segment(centre, angle_deg, length):
    """End points ``[(x, y), (x, y)]`` of a segment through ``centre`` at
    ``angle_deg`` counter-clockwise from the x axis (as displayed: y up)."""
    a = np.deg2rad(angle_deg)
    u = np.array([np.cos(a), -np.sin(a)])
    c = np.asarray(centre, np.float64)
    return [c - length / 2 * u, c + length / 2 * u]


def arc(centre, radius, start_deg, stop_deg, n=400):
    """Points of a circular arc (angles counter-clockwise, as displayed)."""
    th = np.deg2rad(np.linspace(start_deg, stop_deg, n))
    return np.stack([centre[0] + radius * np.cos(th),
                     centre[1] - radius * np.sin(th)], 1)
