"""Crack measurements for inspection: length, width, area, orientation and
branching of each crack of a binary mask or a probability map.

    from mmcrack.analysis import measure_cracks
    result = measure_cracks(prob, threshold=0.5, min_length=20)
    for crack in result.cracks:
        print(crack.crack_id, crack.length_px, crack.max_width_px)
    rows = result.rows('photo_01', px_size=0.2)  # CSV rows, with mm

Definitions (``docs/measurement.md``):

* **crack**: a connected component of the mask (8-connectivity). With
  ``bridge=g``, components whose gap is at most ``g`` px (the distance
  between their nearest pixel centres less one pixel: on a row or a column,
  the number of background pixels between them) are one crack. The
  grouping uses a dilation only; every measurement is made on the mask's
  own pixels.
* **length**: the skeleton (``skimage.morphology.skeletonize``, Lee's
  method: Zhang's erases two-pixel-thick lines at 135 degrees), with small
  holes filled and the spurs of boundary noise pruned, is cut into paths at
  its junctions; each path's pixel chain (axial steps 1, diagonal steps
  sqrt(2)) is simplified by Douglas-Peucker (``cv2.approxPolyDP``,
  tolerance ``simplify_px``) to remove the staircase of digital lines, and
  the polyline lengths are summed. At each free end the centre line is
  extended along its direction to the crack's tip (where the mask ends) and
  pulled back by the half width there, the radius of the end's rounding: a
  stroke of width w drawn from A to B measures ``|AB|``.
* **width**: at each skeleton pixel, the width of the mask across the
  centre line: rays along the normal, both ways, to where the bilinearly
  interpolated mask falls to 0.5 (the mid-point between the last crack and
  the first background pixel), capped at ``2 d + 1`` (``d``: the distance
  transform there). Pixels near a junction (within
  ``1.5 r + 1`` of a junction pixel whose distance to the background is
  ``r``) are left out: a ray there runs along another branch. ``mean`` over
  the remaining skeleton pixels, ``max`` after a 5 px running median along
  each path.
* **orientation**: the principal axis of the crack's pixels, as an angle in
  [0, 180) degrees counter-clockwise from the image x axis (as displayed:
  rows grow downwards). ``transverse`` within ``axis_tol_deg`` of the x
  axis, ``longitudinal`` within ``axis_tol_deg`` of the y axis (images whose
  y axis runs along the road; ``longitudinal_axis='x'`` swaps the two),
  ``diagonal`` otherwise.
* **junctions / endpoints**: skeleton pixels with 3 or more / exactly one
  step (touching junction pixels are one junction); **branching** when
  ``junctions >= alligator_junctions``.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
from scipy import ndimage as ndi
from skimage.morphology import skeletonize

from .crack_components import (
    binarize,
    fill_small_holes,
    group_components,
)
from .crack_geometry import (
    orientation_class,
    principal_angle,
    simplified_length,
    unit_vectors,
    width_rays,
)
from .skeleton_graph import (
    junction_clusters,
    prune_spurs,
    skeleton_graph,
    trace_branches,
)

__all__ = [
    'ORIENTATIONS', 'CSV_COLUMNS', 'MM_COLUMNS', 'Crack', 'CrackMap',
    'measure_cracks'
]

ORIENTATIONS = ('transverse', 'longitudinal', 'diagonal')
CSV_COLUMNS = ('image', 'crack_id', 'length_px', 'max_width_px',
               'mean_width_px', 'area_px', 'orientation', 'branching',
               'junctions', 'endpoints', 'bbox_x', 'bbox_y', 'bbox_w',
               'bbox_h', 'angle_deg')
MM_COLUMNS = ('length_mm', 'max_width_mm', 'mean_width_mm', 'area_mm2')
_MEDIAN = 5  # px, running median of the width profile


@dataclass
class Crack:
    """The measurements of one crack.

    Attributes:
        crack_id: 1, 2, ... in raster order of the cracks' first pixels.
        length_px: centre-line length, px.
        max_width_px, mean_width_px: width across the centre line, px.
        area_px: number of mask pixels.
        bbox: ``(x, y, w, h)`` of the mask pixels, px.
        angle_deg: principal axis, degrees in [0, 180) counter-clockwise
            from the image x axis.
        orientation: one of :data:`ORIENTATIONS`.
        junctions, endpoints: skeleton junctions and free ends.
        branching: ``junctions >= alligator_junctions``.
        widest_xy: ``(x, y)`` of the skeleton pixel where the width is
            largest.
    """
    crack_id: int
    length_px: float
    max_width_px: float
    mean_width_px: float
    area_px: int
    bbox: Tuple[int, int, int, int]
    angle_deg: float
    orientation: str
    junctions: int
    endpoints: int
    branching: bool
    widest_xy: Tuple[int, int] = (0, 0)

    def row(self, image: str = '', px_size: Optional[float] = None) -> Dict:
        """The crack as one CSV row (:data:`CSV_COLUMNS`, plus
        :data:`MM_COLUMNS` when ``px_size`` (mm per px) is given)."""
        x, y, w, h = self.bbox
        row = dict(image=image, crack_id=self.crack_id,
                   length_px=round(self.length_px, 2),
                   max_width_px=round(self.max_width_px, 2),
                   mean_width_px=round(self.mean_width_px, 2),
                   area_px=self.area_px, orientation=self.orientation,
                   branching=int(self.branching), junctions=self.junctions,
                   endpoints=self.endpoints, bbox_x=x, bbox_y=y, bbox_w=w,
                   bbox_h=h, angle_deg=round(self.angle_deg, 1))
        if px_size is not None:
            row.update(length_mm=round(self.length_px * px_size, 4),
                       max_width_mm=round(self.max_width_px * px_size, 4),
                       mean_width_mm=round(self.mean_width_px * px_size, 4),
                       area_mm2=round(self.area_px * px_size**2, 4))
        return row


@dataclass
class CrackMap:
    """What :func:`measure_cracks` found in one image.

    Attributes:
        cracks: the kept cracks, by ``crack_id``.
        labels: int32 (H, W): ``crack_id`` on each crack pixel, 0 elsewhere
            (background and dropped short components).
        skeleton: bool (H, W): the pruned skeletons of the kept cracks.
    """
    cracks: List[Crack] = field(default_factory=list)
    labels: Optional[np.ndarray] = None
    skeleton: Optional[np.ndarray] = None

    def rows(self, image: str = '',
             px_size: Optional[float] = None) -> List[Dict]:
        """One CSV row per crack (see :meth:`Crack.row`); ``px_size`` (mm
        per px, > 0) adds the mm columns."""
        return [c.row(image, px_size) for c in self.cracks]


@dataclass
class _Measure:
    length: float
    max_width: float
    mean_width: float
    junctions: int
    endpoints: int
    widest_rc: Tuple[int, int]
    skeleton: np.ndarray


def _measure_mask(mask: np.ndarray, simplify_px: float, spur_factor: float,
                  max_hole_px: int) -> _Measure:
    """Length, widths, junctions and ends of one crack (bool crop padded by
    background)."""
    mask = fill_small_holes(mask, max_hole_px)
    edt = ndi.distance_transform_edt(mask)
    sk = prune_spurs(skeletonize(mask, method='lee'), edt, spur_factor)
    graph = skeleton_graph(sk)
    coords = graph.coords
    inside = mask.astype(np.float64)
    max_len = 2.0 * float(edt.max()) + 3.0
    branches = trace_branches(graph)
    clusters = junction_clusters(graph)
    steps = {(int(a), int(b)): float(w)
             for (a, b), w in zip(graph.edges, graph.weights)}

    # width across the centre line at every skeleton pixel
    normals = np.zeros((graph.num_nodes, 2))
    for br in branches:
        pts = coords[br.nodes].astype(np.float64)
        n = len(pts)
        if n < 2:
            continue
        idx = np.arange(n)
        k = np.maximum(2, np.ceil(edt[tuple(coords[br.nodes].T)])).astype(
            int)
        if br.closed:
            ahead, back = pts[(idx + k) % n], pts[(idx - k) % n]
        else:
            ahead = pts[np.minimum(idx + k, n - 1)]
            back = pts[np.maximum(idx - k, 0)]
        tangent = unit_vectors(ahead - back)
        normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1)
        # a junction pixel belongs to several paths: keep its first normal
        fresh = ~normals[br.nodes].any(axis=1)
        normals[br.nodes[fresh]] = normal[fresh]
    has_normal = normals.any(axis=1)
    pts = coords.astype(np.float64)
    width = np.zeros(graph.num_nodes)
    width[has_normal] = (
        width_rays(inside, pts[has_normal], normals[has_normal], max_len) +
        width_rays(inside, pts[has_normal], -normals[has_normal], max_len))
    # a chord longer than the inscribed disc allows ran along the crack
    # (a bent or noisy stretch), not across it
    width = np.minimum(width, 2.0 * edt[coords[:, 0], coords[:, 1]] + 1.0)

    # the widest stretch: width smoothed by a running median along each path
    # (a single pixel's chord varies by up to 1 px with the pixel grid)
    smooth = width.copy()
    for br in branches:
        if len(br.nodes) >= 3:
            smooth[br.nodes] = ndi.median_filter(
                width[br.nodes], size=min(_MEDIAN, len(br.nodes)),
                mode='wrap' if br.closed else 'nearest')

    # leave out the pixels near junctions
    keep = has_normal & (graph.degree < 3)
    junction_nodes = np.flatnonzero(graph.degree >= 3)
    if len(junction_nodes):
        zone = np.zeros(mask.shape, np.uint8)
        for r, c in coords[junction_nodes]:
            radius = int(np.ceil(1.5 * edt[r, c] + 1.0))
            cv2.circle(zone, (int(c), int(r)), radius, 1, -1)
        keep &= zone[coords[:, 0], coords[:, 1]] == 0
    if not keep.any():
        keep = has_normal
    if keep.any():
        sel = np.flatnonzero(keep)
        widest = int(sel[np.argmax(smooth[sel])])
        max_width = float(smooth[widest])
        mean_width = float(width[sel].mean())
    else:  # a point: the narrowest of four chords through it
        widest = 0 if graph.num_nodes else -1
        if widest < 0:
            return _Measure(0.0, 0.0, 0.0, 0, 0, (0, 0), sk)
        dirs = unit_vectors(np.array([[0, 1], [1, 0], [1, 1], [1, -1]], float))
        p = np.repeat(pts[:1], 4, 0)
        chords = (width_rays(inside, p, dirs, max_len) +
                  width_rays(inside, p, -dirs, max_len))
        max_width = mean_width = float(chords.min())

    # length: simplified paths, plus the end caps
    length = 0.0
    for br in branches:
        nodes = br.nodes
        if len(nodes) == 2 and not br.closed:
            length += steps[(int(min(nodes)), int(max(nodes)))]
        else:
            length += simplified_length(coords[nodes], br.closed,
                                         simplify_px)
    ends = 0
    for br in branches:
        if br.closed:
            continue
        for nodes in (br.nodes, br.nodes[::-1]):
            end = nodes[-1]
            if graph.degree[end] != 1:
                continue
            ends += 1
            k = int(min(max(2, round(2 * edt[tuple(coords[end])])),
                        len(nodes) - 1))
            direction = unit_vectors(pts[end] - pts[nodes[-1 - k]])
            tip = width_rays(inside, pts[end:end + 1], direction[None],
                             max_len)
            half = 0.5 * float(np.median(width[nodes[-1 - k:]]))
            length += float(tip[0]) - half
    r, c = coords[widest]
    return _Measure(max(length, 0.0), max_width, mean_width, len(clusters),
                    ends, (int(r), int(c)), sk)


def measure_cracks(mask_or_prob: np.ndarray,
                   threshold: float = 0.5,
                   bridge: float = 0,
                   min_length: float = 0.0,
                   alligator_junctions: int = 3,
                   axis_tol_deg: float = 22.5,
                   longitudinal_axis: str = 'y',
                   simplify_px: float = 1.0,
                   spur_factor: float = 2.0,
                   max_hole_px: int = 25) -> CrackMap:
    """Find and measure each crack of a mask or a probability map.

    Args:
        mask_or_prob: (H, W) bool / 0-1 integer mask, uint8 probability
            ``v / 255``, or float probability in [0, 1] (see
            :func:`binarize`).
        threshold: crack where probability >= threshold, in (0, 1].
        bridge: join components whose gap is at most this many px (0: plain
            8-connected components); see :func:`group_components`.
        min_length: drop cracks shorter than this, px.
        alligator_junctions: ``branching`` when a crack has at least this
            many skeleton junctions (>= 1).
        axis_tol_deg: half width of the transverse / longitudinal bins,
            degrees (see :func:`orientation_class`).
        longitudinal_axis: the image axis along the road, ``'y'`` or
            ``'x'``.
        simplify_px: Douglas-Peucker tolerance of the centre line, px
            (0: the plain step length, axial 1 and diagonal sqrt(2)).
        spur_factor: skeleton side branches no longer than this many
            junction radii are pruned as boundary noise (0: keep all).
        max_hole_px: holes of at most this many px inside a crack are
            noise: filled for the skeleton and the widths (``area_px``
            counts the mask's own pixels). Larger holes (the cells of
            alligator cracking) stay.

    Returns:
        :class:`CrackMap` (cracks, labels, skeleton).
    """
    if alligator_junctions < 1:
        raise ValueError(f'alligator_junctions must be >= 1, got '
                         f'{alligator_junctions}')
    if min_length < 0:
        raise ValueError(f'min_length must be >= 0, got {min_length}')
    orientation_class(0.0, axis_tol_deg, longitudinal_axis)  # validate
    mask = binarize(mask_or_prob, threshold)
    groups = group_components(mask, bridge)
    h, w = mask.shape
    out_labels = np.zeros((h, w), np.int32)
    out_skel = np.zeros((h, w), bool)
    cracks = []
    pad = 2
    for k, sl in enumerate(ndi.find_objects(groups), start=1):
        if sl is None:
            continue
        own = groups[sl] == k
        crop = np.pad(own, pad)
        m = _measure_mask(crop, simplify_px, spur_factor, max_hole_px)
        if m.length < min_length:
            continue
        rows, cols = np.nonzero(own)
        rows = rows + sl[0].start
        cols = cols + sl[1].start
        angle = principal_angle(rows.astype(float), cols.astype(float))
        crack_id = len(cracks) + 1
        out_labels[rows, cols] = crack_id
        sk = m.skeleton[pad:-pad, pad:-pad]
        out_skel[sl] |= sk
        x0, y0 = int(cols.min()), int(rows.min())
        cracks.append(
            Crack(crack_id=crack_id, length_px=m.length,
                  max_width_px=m.max_width, mean_width_px=m.mean_width,
                  area_px=int(len(rows)),
                  bbox=(x0, y0, int(cols.max()) - x0 + 1,
                        int(rows.max()) - y0 + 1),
                  angle_deg=angle,
                  orientation=orientation_class(angle, axis_tol_deg,
                                                longitudinal_axis),
                  junctions=m.junctions, endpoints=m.endpoints,
                  branching=m.junctions >= alligator_junctions,
                  widest_xy=(m.widest_rc[1] - pad + sl[1].start,
                             m.widest_rc[0] - pad + sl[0].start)))
    return CrackMap(cracks, out_labels, out_skel)
