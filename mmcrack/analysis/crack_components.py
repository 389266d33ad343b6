"""Cracks as connected components: binarising a mask or a probability
map, grouping components across small gaps, filling small holes
(definitions in ``docs/measurement.md``)."""
import numpy as np
from scipy import ndimage as ndi
from scipy.sparse import csgraph

#: 8-connectivity structuring element
EIGHT = np.ones((3, 3), bool)


def binarize(mask_or_prob: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Crack pixels of a mask or a probability map.

    Args:
        mask_or_prob: (H, W) one of
            bool: the mask itself;
            integer with values in {0, 1}: a 0/1 mask;
            other integer (uint8 0..255): probability ``v / 255``;
            float in [0, 1]: probability.
        threshold: crack where probability >= threshold, in (0, 1]
            (compared in float64, as the metrics and the inferencer do).

    Returns:
        bool (H, W).
    """
    arr = np.asarray(mask_or_prob)
    if arr.ndim != 2:
        raise ValueError(f'expected a 2-D (H, W) mask or probability map, '
                         f'got shape {arr.shape}')
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f'threshold must be in (0, 1], got {threshold}')
    if arr.dtype == bool:
        return arr.copy()
    if arr.dtype.kind in 'iu':
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise ValueError('integer maps must be 0/1 masks or 0..255 '
                             f'probabilities, got {arr.min()}..{arr.max()}')
        if arr.size == 0 or arr.max() <= 1:
            return arr == 1
        return arr.astype(np.float64) / 255.0 >= threshold
    if arr.dtype.kind == 'f':
        if not np.isfinite(arr).all() or (arr.size and (
                arr.min() < 0 or arr.max() > 1)):
            raise ValueError('probability maps must be finite and in [0, 1]')
        return arr.astype(np.float64) >= threshold
    raise ValueError(f'unsupported dtype {arr.dtype}')


def group_components(mask: np.ndarray, bridge: float = 0) -> np.ndarray:
    """Label the cracks of a mask: 8-connected components, and with
    ``bridge > 0`` components whose gap is at most ``bridge`` px joined.

    The gap between two components is the Euclidean distance between their
    nearest pixel centres less one (on a row or a column, the number of
    background pixels between them). Each component's neighbourhood is the
    dilation of the component by a disc of radius ``bridge + 1`` (exact,
    from its distance transform); it is used for grouping only.

    Args:
        mask: bool (H, W).
        bridge: largest gap bridged, px (>= 0).

    Returns:
        int32 (H, W): 0 background, 1..N cracks in raster order of their
        first pixels.
    """
    if bridge < 0:
        raise ValueError(f'bridge must be >= 0, got {bridge}')
    labels, count = ndi.label(np.asarray(mask, bool), structure=EIGHT)
    if bridge == 0 or count < 2:
        return labels.astype(np.int32)
    reach = float(bridge) + 1.0
    margin = int(np.ceil(reach))
    h, w = labels.shape
    pairs = []
    for k, sl in enumerate(ndi.find_objects(labels), start=1):
        r0, r1 = max(sl[0].start - margin, 0), min(sl[0].stop + margin, h)
        c0, c1 = max(sl[1].start - margin, 0), min(sl[1].stop + margin, w)
        crop = labels[r0:r1, c0:c1]
        near = ndi.distance_transform_edt(crop != k) <= reach
        for other in np.unique(crop[near & (crop > k)]):
            pairs.append((k - 1, int(other) - 1))
    if not pairs:
        return labels.astype(np.int32)
    from scipy import sparse
    a, b = np.asarray(pairs).T
    graph = sparse.coo_matrix((np.ones(len(a)), (a, b)), (count, count))
    _, group = csgraph.connected_components(graph, directed=False)
    # renumber groups in raster order of their first pixel
    first = np.full(group.max() + 1, count, np.int64)
    np.minimum.at(first, group, np.arange(count))
    order = np.argsort(np.argsort(first))
    lut = np.concatenate([[0], order[group] + 1]).astype(np.int32)
    return lut[labels]


def fill_small_holes(mask: np.ndarray, max_hole_px: int) -> np.ndarray:
    """Fill the holes of a mask (background regions, 4-connected, that do
    not reach the border) of at most ``max_hole_px`` pixels.

    Args:
        mask: bool (H, W).
        max_hole_px: largest hole filled, px (0: none).

    Returns:
        bool (H, W) (a copy).
    """
    mask = np.array(mask, bool)
    if max_hole_px <= 0:
        return mask
    holes = ndi.binary_fill_holes(mask) & ~mask
    labels, count = ndi.label(holes)
    if count:
        sizes = np.bincount(labels.ravel(), minlength=count + 1)
        small = sizes <= max_hole_px
        small[0] = False
        mask |= small[labels]
    return mask
