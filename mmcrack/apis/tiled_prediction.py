"""Tiled prediction of large images: tile grid, blending windows, blend loop.

A dense predictor ``predict(tile) -> prob`` (a segmentation model, a
pseudo-label generator...) is run on overlapping tiles of an image that is
too large to predict whole; the tile predictions are blended into one map of
the image size:

    from mmcrack.apis.tiled_prediction import predict_tiled
    prob = predict_tiled(model_predict, img, tile=1024, overlap=64)

* :class:`TileGrid` places tiles of at most ``tile`` pixels with at least
  ``overlap`` pixels shared between neighbours; every pixel is covered.
  Tile starts step by ``tile - overlap`` (rounded down to a multiple of
  ``align``: keeps the phase of a strided network's downsampling the same in
  every tile); the last tile of a row or column ends at the image border.
* Each tile's weight is separable, ``w(y, x) = wy(y) * wx(x)``: 1 inside,
  falling as ``sin^2`` to near 0 across the overlap with each neighbour (the
  tile border inside the image), and 1 up to the image border. Two
  neighbours' ramps over the same overlap sum to one; the weights are also
  divided by their per-pixel sum, which is separable too (``Sy(y) * Sx(x)``),
  so the blend is a weighted mean with weights summing to one at every
  pixel. The result is continuous across tile borders: a tile's prediction
  fades out where it lacks context.
* :func:`predict_tiled` holds one tile's prediction at a time and adds it,
  already normalised, into a float32 canvas of the image size (the output):
  memory is the canvas plus O(tile), whatever the image size.
"""
import math
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np

#: ``(y0, y1, x0, x1)``: rows ``y0:y1`` and columns ``x0:x1`` of one tile.
Box = Tuple[int, int, int, int]


def tile_starts(length: int, tile: int, overlap: int,
                align: int = 1) -> List[int]:
    """Start offsets of the tiles along one axis.

    Args:
        length: the image side in pixels, >= 1.
        tile: the tile side in pixels, >= 1. A side of at most ``tile`` is
            one tile (``[0]``).
        overlap: pixels shared by neighbouring tiles at least,
            ``0 <= overlap < tile``.
        align: starts are multiples of ``align`` (>= 1;
            ``tile - overlap >= align``), e.g. the total stride of a
            network; the last tile may then be up to ``align - 1`` pixels
            shorter than ``tile``.

    Returns:
        increasing starts ``s``: tile ``i`` covers ``s[i] : min(s[i] + tile,
        length)``, the last one ends at ``length`` and neighbours share at
        least ``overlap`` pixels.

    Raises:
        ValueError: sizes out of range (e.g. ``overlap >= tile``: the tiles
            would not advance).
    """
    for name, value, low in (('length', length, 1), ('tile', tile, 1),
                             ('overlap', overlap, 0), ('align', align, 1)):
        if int(value) != value or value < low:
            raise ValueError(f'{name} must be an integer >= {low}, got '
                             f'{value!r}')
    if overlap >= tile:
        raise ValueError(f'overlap ({overlap}) must be smaller than the tile '
                         f'({tile}): tiles would not advance')
    if length <= tile:
        return [0]
    step = (tile - overlap) // align * align
    if step < 1:
        raise ValueError(f'tile - overlap ({tile - overlap}) must be at '
                         f'least align ({align})')
    last = -(-(length - tile) // align) * align  # ceil to align
    starts = list(range(0, last, step))
    return starts + [last]


def ramp_window(length: int, before: int = 0, after: int = 0) -> np.ndarray:
    """1-D blending window of one tile side.

    Args:
        length: tile side in pixels, >= 1.
        before, after: overlap in pixels with the neighbouring tile before
            (above / left) and after (below / right); 0 where the tile
            touches the image border.

    Returns:
        float64 ``(length,)`` in ``(0, 1]``: 1 inside; over the ``n``
        overlapping pixels next to a neighbour it is
        ``sin^2(pi / 2 * (d + 0.5) / n)`` at ``d`` pixels from the tile
        border (about ``(pi / 4n)^2`` on the border pixel, so never 0; a
        neighbour's ramp over the same ``n`` pixels is the complement, the
        two sum to one). Both ramps multiply where they meet.
    """
    w = np.ones(length, np.float64)
    d = np.arange(length, dtype=np.float64)
    for n, dist in ((before, d), (after, d[::-1])):
        n = min(int(n), length)
        if n > 0:
            w *= np.where(dist < n,
                          np.sin(np.pi / 2 * (dist + 0.5) / n) ** 2, 1.0)
    return w


@dataclass(frozen=True)
class TileGrid:
    """Overlapping tiles of an ``height x width`` image.

    Args:
        height, width: image size in pixels, >= 1.
        tile: tile side in pixels (sides of at most ``tile`` are one tile).
        overlap: at least this many pixels shared by neighbours,
            ``0 <= overlap < tile``.
        align: tile starts are multiples of ``align``
            (see :func:`tile_starts`).
    """
    height: int
    width: int
    tile: int
    overlap: int = 64
    align: int = 1

    def __post_init__(self):
        object.__setattr__(self, 'ys', tuple(tile_starts(
            self.height, self.tile, self.overlap, self.align)))
        object.__setattr__(self, 'xs', tuple(tile_starts(
            self.width, self.tile, self.overlap, self.align)))

    def __len__(self) -> int:
        return len(self.ys) * len(self.xs)

    def _axis(self, starts, length) -> List[Tuple[int, int, np.ndarray]]:
        ends = [min(s + self.tile, length) for s in starts]
        out = []
        for i, (s, e) in enumerate(zip(starts, ends)):
            before = ends[i - 1] - s if i > 0 else 0
            after = e - starts[i + 1] if i + 1 < len(starts) else 0
            out.append((s, e, ramp_window(e - s, before, after)))
        return out

    def axis_weights(self, axis: int) -> List[Tuple[int, int, np.ndarray]]:
        """``(start, end, weight)`` of each tile row (``axis=0``) or column
        (``axis=1``), the weights normalised to sum to one at every pixel of
        that axis (float64 ``(end - start,)`` in ``(0, 1]``)."""
        length = self.height if axis == 0 else self.width
        parts = self._axis(self.ys if axis == 0 else self.xs, length)
        total = np.zeros(length, np.float64)
        for s, e, w in parts:
            total[s:e] += w
        return [(s, e, w / total[s:e]) for s, e, w in parts]

    def boxes(self) -> List[Box]:
        """``(y0, y1, x0, x1)`` of every tile, row by row."""
        return [(y0, y1, x0, x1) for y0, y1, _ in self._axis(self.ys,
                                                             self.height)
                for x0, x1, _ in self._axis(self.xs, self.width)]

    def tiles(self) -> Iterator[Tuple[Box, np.ndarray]]:
        """``(box, weight)`` of every tile, row by row; ``weight`` float32
        ``(y1 - y0, x1 - x0)``, normalised: the weights of all tiles sum to
        one at every pixel (up to float32 rounding)."""
        cols = self.axis_weights(1)
        for y0, y1, wy in self.axis_weights(0):
            for x0, x1, wx in cols:
                yield (y0, y1, x0, x1), np.outer(wy, wx).astype(np.float32)


def predict_tiled(predict: Callable[[np.ndarray], np.ndarray],
                  image: np.ndarray,
                  tile: int,
                  overlap: int = 64,
                  align: int = 1,
                  progress: Optional[Callable[[int, int], None]] = None,
                  out: Optional[np.ndarray] = None) -> np.ndarray:
    """Blend ``predict`` over overlapping tiles of ``image``.

    Args:
        predict: maps a tile, ``image[y0:y1, x0:x1]`` (a view, same dtype and
            channels), to a map of the tile's size, ``(y1 - y0, x1 - x0)``,
            any float or integer dtype (e.g. a probability in ``[0, 1]``).
        image: ``(H, W)`` or ``(H, W, C)`` array of any dtype, H, W >= 1.
        tile: tile side in pixels, >= 1. An image with both sides at most
            ``tile`` is predicted whole: the result is ``predict(image)``
            as float32, unchanged.
        overlap: pixels shared by neighbouring tiles at least,
            ``0 <= overlap < tile``; the blending ramps span the overlaps.
        align: tile starts are multiples of ``align`` (>= 1), e.g. the total
            stride of a network, so that each tile is downsampled in the
            same phase as the whole image.
        progress: called as ``progress(done, total)`` after each tile.
        out: float32 ``(H, W)`` canvas to write into (zeroed here).

    Returns:
        float32 ``(H, W)`` (``out`` when given): at every pixel the mean of
        the covering tiles' predictions weighted by :meth:`TileGrid.tiles`,
        clipped to the range of the predictions against rounding (so
        probabilities stay in ``[0, 1]``).

    Raises:
        ValueError: bad sizes, or ``predict`` returned a map of another
            shape.
    """
    h, w = image.shape[:2]
    if out is None:
        out = np.zeros((h, w), np.float32)
    elif out.shape != (h, w) or out.dtype != np.float32:
        raise ValueError(f'out must be float32 {(h, w)}, got {out.dtype} '
                         f'{out.shape}')
    return predict_tiled_maps(lambda t: {'map': predict(t)}, image, tile,
                              overlap, align, progress,
                              out={'map': out})['map']


def predict_tiled_maps(predict: Callable[[np.ndarray], Dict[str, np.ndarray]],
                       image: np.ndarray,
                       tile: int,
                       overlap: int = 64,
                       align: int = 1,
                       progress: Optional[Callable[[int, int], None]] = None,
                       out: Optional[Dict[str, np.ndarray]] = None
                       ) -> Dict[str, np.ndarray]:
    """:func:`predict_tiled` for a predictor of several maps per tile
    (e.g. a pseudo-label and its intermediate stages), each blended with the
    same weights.

    Args:
        predict: maps a tile to a dict ``name -> (y1 - y0, x1 - x0)`` map;
            the same names for every tile.
        image, tile, overlap, align, progress: as :func:`predict_tiled`.
        out: float32 ``(H, W)`` canvases to write into, by name (zeroed
            here); the other maps get new ones.

    Returns:
        dict ``name -> float32 (H, W)``, each clipped to the range of its
        tile predictions; for an image that fits in one tile, the maps of
        ``predict(image)`` as float32.
    """
    h, w = image.shape[:2]
    grid = TileGrid(h, w, tile, overlap, align)
    out = dict(out or {})
    for canvas in out.values():
        canvas[...] = 0
    total = len(grid)
    ranges = {}  # name -> [low, high] of the tile predictions
    for k, ((y0, y1, x0, x1), weight) in enumerate(grid.tiles(), 1):
        maps = predict(image[y0:y1, x0:x1])
        if k > 1 and set(maps) != set(ranges):
            raise ValueError(f'predict returned maps {sorted(maps)}, the '
                             f'first tile {sorted(ranges)}')
        for name, pred in maps.items():
            pred = np.asarray(pred)
            if pred.shape != (y1 - y0, x1 - x0):
                raise ValueError(f'predict returned shape {pred.shape} for '
                                 f'a tile of {(y1 - y0, x1 - x0)}')
            canvas = out.get(name)
            if canvas is None:
                canvas = out[name] = np.zeros((h, w), np.float32)
            if total == 1:
                canvas[...] = pred
                ranges[name] = None
                continue
            low, high = ranges.get(name) or (math.inf, -math.inf)
            ranges[name] = (min(low, float(pred.min())),
                            max(high, float(pred.max())))
            canvas[y0:y1, x0:x1] += weight * pred
        if progress is not None:
            progress(k, total)
    for name, limits in ranges.items():
        if limits is not None:  # a weighted mean: within the tiles' range
            np.clip(out[name], *limits, out=out[name])
    return out
