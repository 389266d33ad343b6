"""The pixel graph of a one-pixel-wide skeleton: steps, branches, junctions.

A skeleton pixel is a node. Two skeleton pixels are joined by a *step*:

* an axial step (4-neighbours) of length 1;
* a diagonal step of length sqrt(2), except where the two pixels also share
  a 4-neighbour in the skeleton (an L of three pixels): there the path runs
  through the corner pixel and the diagonal would count the same stretch
  twice.

The degree of a node (its number of steps) classifies it: 0 an isolated
point, 1 an end point, 2 a line pixel, 3 or more a junction pixel.
Junction pixels that touch form one junction.

:func:`trace_branches` cuts the graph at the junction pixels into ordered
pixel paths, so that lengths can be measured along them;
:func:`prune_spurs` removes the short side branches that boundary noise
grows on a skeleton.
"""
from dataclasses import dataclass
from typing import List, Optional

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

__all__ = [
    'SkeletonGraph', 'skeleton_graph', 'step_length', 'trace_branches',
    'junction_clusters', 'prune_spurs'
]

SQRT2 = float(np.sqrt(2.0))


@dataclass
class SkeletonGraph:
    """Steps between the pixels of a skeleton.

    Attributes:
        coords: int64 (N, 2) ``(row, col)`` of the skeleton pixels, in
            raster order.
        edges: int64 (E, 2) node pairs ``(i, j)`` with ``i < j``.
        weights: float64 (E,) step lengths: 1 (axial) or sqrt(2)
            (diagonal).
        degree: int64 (N,) number of steps at each node.
    """
    coords: np.ndarray
    edges: np.ndarray
    weights: np.ndarray
    degree: np.ndarray

    @property
    def num_nodes(self) -> int:
        return len(self.coords)

    def adjacency(self) -> sparse.csr_matrix:
        """Symmetric (N, N) CSR matrix of the step lengths."""
        n = self.num_nodes
        i, j = self.edges.T if len(self.edges) else (np.zeros(0, int), ) * 2
        data = np.concatenate([self.weights, self.weights])
        return sparse.csr_matrix(
            (data, (np.concatenate([i, j]), np.concatenate([j, i]))),
            shape=(n, n))


def skeleton_graph(skeleton: np.ndarray) -> SkeletonGraph:
    """Build the step graph of a skeleton.

    Args:
        skeleton: bool (H, W), a one-pixel-wide skeleton (e.g.
            ``skimage.morphology.skeletonize``).

    Returns:
        :class:`SkeletonGraph`.
    """
    sk = np.asarray(skeleton, bool)
    if sk.ndim != 2:
        raise ValueError(f'skeleton must be 2-D (H, W), got {sk.shape}')
    pad = np.pad(sk, 1)
    index = np.full(pad.shape, -1, np.int64)
    rows, cols = np.nonzero(pad)
    index[rows, cols] = np.arange(len(rows))
    edges, weights = [], []

    def shifted(dr, dc):
        return pad[1 + dr:pad.shape[0] - 1 + dr, 1 + dc:pad.shape[1] - 1 + dc]

    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        pair = sk & shifted(dr, dc)
        if dr and dc:  # diagonal: not where an L corner pixel joins them
            pair &= ~(shifted(dr, 0) | shifted(0, dc))
        r, c = np.nonzero(pair)
        a = index[r + 1, c + 1]
        b = index[r + 1 + dr, c + 1 + dc]
        edges.append(np.stack([np.minimum(a, b), np.maximum(a, b)], 1))
        weights.append(np.full(len(r), SQRT2 if dr and dc else 1.0))
    edges = np.concatenate(edges).astype(np.int64)
    weights = np.concatenate(weights)
    degree = np.bincount(edges.ravel(), minlength=len(rows))
    coords = np.stack([rows - 1, cols - 1], 1).astype(np.int64)
    return SkeletonGraph(coords, edges, weights, degree.astype(np.int64))


def step_length(skeleton: np.ndarray) -> float:
    """Total step length of a skeleton: axial steps 1, diagonal sqrt(2).

    The plain chain length, before any smoothing: exact along the axes and
    the diagonals, up to 8 % long in between (a line at 22.5 degrees is a
    staircase of axial and diagonal steps). See
    :func:`mmcrack.analysis.crack_measurement.measure_cracks` for the
    crack length.

    Args:
        skeleton: bool (H, W) one-pixel-wide skeleton.

    Returns:
        length in pixels (float).
    """
    return float(skeleton_graph(skeleton).weights.sum())


def junction_clusters(graph: SkeletonGraph) -> List[np.ndarray]:
    """Node indices of each junction: junction pixels (degree >= 3) joined
    by steps form one junction.

    Returns:
        list of int64 arrays, one per junction.
    """
    junction = np.flatnonzero(graph.degree >= 3)
    if len(junction) == 0:
        return []
    sub = graph.adjacency()[junction][:, junction]
    count, label = csgraph.connected_components(sub, directed=False)
    return [junction[label == k] for k in range(count)]


@dataclass
class Branch:
    """An ordered pixel path of a skeleton.

    Attributes:
        nodes: int64 (K,) node indices in path order.
        closed: the path is a loop (its last node steps to its first).
        start_junction, end_junction: whether the path's first / last node
            is a junction pixel (else an end point, or a loop).
    """
    nodes: np.ndarray
    closed: bool = False
    start_junction: bool = False
    end_junction: bool = False


def _walk(start: int, first: Optional[int], allowed: np.ndarray,
          indptr: np.ndarray, indices: np.ndarray,
          visited: np.ndarray) -> List[int]:
    """Follow degree-2 nodes (``allowed``) from ``start``."""
    path = [start]
    visited[start] = True
    prev, cur = start, first
    while cur is not None:
        path.append(cur)
        if not allowed[cur]:
            break  # reached a junction or an end point
        visited[cur] = True
        nxt = None
        for nb in indices[indptr[cur]:indptr[cur + 1]]:
            if nb != prev and (not visited[nb] or not allowed[nb]):
                nxt = int(nb)
                break
        if nxt is None:
            # a loop closing on its start
            for nb in indices[indptr[cur]:indptr[cur + 1]]:
                if nb == start and nb != prev:
                    path.append(start)
                    break
            break
        prev, cur = cur, nxt
    return path


def trace_branches(graph: SkeletonGraph) -> List[Branch]:
    """Cut a skeleton into paths that meet only at junction pixels.

    Each path runs from an end point or a junction pixel to an end point or
    a junction pixel through line pixels (degree 2); a ring without
    junction is one closed path. Steps between two junction pixels are
    paths of two nodes. Every step belongs to exactly one path.

    Returns:
        list of :class:`Branch`.
    """
    adj = graph.adjacency()
    indptr, indices = adj.indptr, adj.indices
    deg = graph.degree
    line = deg == 2
    visited = np.zeros(graph.num_nodes, bool)
    used = set()  # steps already in a path, as (min, max)
    branches = []

    def add(path, closed=False):
        for a, b in zip(path[:-1], path[1:]):
            used.add((min(a, b), max(a, b)))
        nodes = np.asarray(path, np.int64)
        if closed and len(nodes) > 1 and nodes[0] == nodes[-1]:
            nodes = nodes[:-1]
        branches.append(
            Branch(nodes, closed, bool(deg[nodes[0]] >= 3),
                   bool(deg[nodes[-1]] >= 3) and not closed))

    for start in np.flatnonzero(~line & (deg > 0)):
        start = int(start)
        for nb in indices[indptr[start]:indptr[start + 1]]:
            nb = int(nb)
            if (min(start, nb), max(start, nb)) in used:
                continue
            path = _walk(start, nb, line, indptr, indices, visited)
            add(path)
    # rings of line pixels only
    for start in np.flatnonzero(line & ~visited):
        start = int(start)
        if visited[start]:
            continue
        first = int(indices[indptr[start]])
        path = _walk(start, first, line, indptr, indices, visited)
        add(path, closed=True)
    return branches


def prune_spurs(skeleton: np.ndarray, radius: np.ndarray,
                factor: float = 1.0, max_rounds: int = 10) -> np.ndarray:
    """Remove the short side branches that boundary bumps grow on a
    skeleton.

    A *spur* is a path from an end point to a junction pixel whose step
    length is at most ``factor`` times ``radius`` at that junction pixel
    (the distance to the background there): it does not reach out of the
    junction's inscribed disc by more than ``factor - 1`` of its radius, so
    it is part of the crack's body, not a branch. Spurs are removed (the
    junction pixel stays) and the test repeats until none is left. Paths
    from an end point to an end point are never removed.

    Args:
        skeleton: bool (H, W) one-pixel-wide skeleton.
        radius: float (H, W) distance to the background (e.g.
            ``scipy.ndimage.distance_transform_edt`` of the mask), px.
        factor: spur length limit in junction radii (>= 0; 0 disables).
        max_rounds: at most this many removal rounds.

    Returns:
        bool (H, W) pruned skeleton (a copy).
    """
    sk = np.array(skeleton, bool)
    if factor <= 0:
        return sk
    for _ in range(max_rounds):
        graph = skeleton_graph(sk)
        lengths = _edge_lookup(graph)
        removed = False
        for br in trace_branches(graph):
            if br.closed or br.start_junction == br.end_junction:
                continue
            nodes = br.nodes if br.end_junction else br.nodes[::-1]
            junction = nodes[-1]
            length = sum(lengths[(min(a, b), max(a, b))]
                         for a, b in zip(nodes[:-1], nodes[1:]))
            r, c = graph.coords[junction]
            if length <= factor * radius[r, c]:
                rr, cc = graph.coords[nodes[:-1]].T
                sk[rr, cc] = False
                removed = True
        if not removed:
            break
    return sk


def _edge_lookup(graph: SkeletonGraph) -> dict:
    return {(int(a), int(b)): float(w)
            for (a, b), w in zip(graph.edges, graph.weights)}
