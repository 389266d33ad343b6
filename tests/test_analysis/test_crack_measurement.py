"""measure_cracks against cracks of known geometry: lengths within 3 %,
widths within 1 px (widths 1..9), orientation classes, junctions and
endpoints, gap bridging, min_length, mm columns."""
import os.path as osp
import sys

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.morphology import skeletonize

from mmcrack.analysis import (
    binarize,
    draw_cracks,
    group_components,
    measure_cracks,
    orientation_class,
    step_length,
)

sys.path.insert(0, osp.dirname(__file__))
from crack_drawing import (  # noqa: E402
    arc,
    polyline_length,
    segment,
    stroke,
)

WIDTHS = list(range(1, 10))
CENTRE = (120.3, 120.6)  # off the pixel grid


def only_crack(result):
    assert len(result.cracks) == 1, [c.length_px for c in result.cracks]
    return result.cracks[0]


def angle_difference(a, b):
    d = abs(a - b) % 180.0
    return min(d, 180.0 - d)


def assert_length(measured, true, tol=0.03):
    assert abs(measured - true) <= tol * true, (measured, true)


def assert_width(crack, width):
    assert abs(crack.max_width_px - width) <= 1.0, (crack.max_width_px,
                                                     width)
    assert abs(crack.mean_width_px - width) <= 1.0, (crack.mean_width_px,
                                                      width)


@pytest.mark.parametrize('width', WIDTHS)
@pytest.mark.parametrize('angle, orientation', [
    (0, 'transverse'),  # horizontal
    (90, 'longitudinal'),  # vertical
    (45, 'diagonal'),
    (135, 'diagonal'),
    (30, 'diagonal'),
])
def test_straight_crack(angle, orientation, width):
    length = 160.0
    mask = stroke((240, 240), segment(CENTRE, angle, length), width)
    crack = only_crack(measure_cracks(mask))
    assert_length(crack.length_px, length)
    assert_width(crack, width)
    assert crack.orientation == orientation
    assert angle_difference(crack.angle_deg, angle) <= 1.0
    assert (crack.junctions, crack.endpoints) == (0, 2)
    assert not crack.branching
    assert crack.area_px == mask.sum()
    rows, cols = np.nonzero(mask)
    assert crack.bbox == (cols.min(), rows.min(), cols.max() - cols.min() + 1,
                          rows.max() - rows.min() + 1)


def test_unweighted_pixel_count_fails_on_a_diagonal():
    """A 45-degree skeleton of N pixels is (N - 1) sqrt(2) long: counting
    pixels misses 29 %, the step-weighted length does not."""
    length = 160.0
    mask = stroke((240, 240), segment(CENTRE, 45, length), 3)
    skel = skeletonize(mask)
    assert abs(skel.sum() - length) > 0.25 * length  # pixel count: wrong
    assert_length(step_length(skel), length)  # steps weighted: right
    assert_length(only_crack(measure_cracks(mask)).length_px, length)


def test_step_length_known_skeletons():
    assert step_length(np.eye(6, dtype=bool)) == pytest.approx(5 * 2**0.5)
    assert step_length(np.ones((1, 6), bool)) == 5.0
    corner = np.zeros((3, 3), bool)
    corner[0, 0] = corner[0, 1] = corner[1, 1] = True  # an L: 2, not 2+r2
    assert step_length(corner) == pytest.approx(2.0)
    staircase = np.zeros((4, 4), bool)
    staircase[[0, 0, 1, 1, 2], [0, 1, 1, 2, 2]] = True  # 4 axial steps
    assert step_length(staircase) == pytest.approx(4.0)


def test_plain_step_length_is_biased_between_axis_and_diagonal():
    """At 22.5 degrees a digital line is a staircase of axial and diagonal
    steps: their weighted sum is ~8 % long; the simplified centre line
    (default) is within 3 %."""
    length = 200.0
    mask = stroke((240, 240), segment(CENTRE, 22.5, length), 3)
    plain = only_crack(measure_cracks(mask, simplify_px=0)).length_px
    assert plain > 1.05 * length
    assert_length(only_crack(measure_cracks(mask)).length_px, length)


@pytest.mark.parametrize('width', WIDTHS)
def test_arc(width):
    radius, start, stop = 80.0, 30.0, 150.0  # an arch, 120 degrees
    mask = stroke((240, 240), arc(CENTRE, radius, start, stop), width)
    crack = only_crack(measure_cracks(mask))
    assert_length(crack.length_px, radius * np.deg2rad(stop - start))
    assert_width(crack, width)
    assert crack.orientation == 'transverse'  # its chord is horizontal
    assert (crack.junctions, crack.endpoints) == (0, 2)


def test_ring_has_no_ends():
    radius = 60.0
    mask = stroke((200, 200), arc((100.2, 100.3), radius, 0, 360, 800), 3)
    crack = only_crack(measure_cracks(mask))
    assert_length(crack.length_px, 2 * np.pi * radius)
    assert (crack.junctions, crack.endpoints) == (0, 0)
    assert_width(crack, 3)


@pytest.mark.parametrize('width', [1, 3, 5, 9])
def test_y_branch(width):
    arms = [segment(CENTRE, a, 140)[1] for a in (90, 210, 330)]
    mask = np.zeros((240, 240), bool)
    for end in arms:
        mask |= stroke(mask.shape, [CENTRE, end], width)
    crack = only_crack(measure_cracks(mask))
    assert_length(crack.length_px, 3 * 70.0)
    assert_width(crack, width)
    assert (crack.junctions, crack.endpoints) == (1, 3)
    assert not crack.branching  # one junction is not alligator cracking
    again = only_crack(measure_cracks(mask, alligator_junctions=1))
    assert again.branching


@pytest.mark.parametrize('width', [1, 3, 5, 9])
def test_t_branch(width):
    bar = [(40.3, 60.2), (200.3, 60.2)]
    stem = [(120.3, 60.2), (120.3, 160.2)]
    mask = stroke((240, 240), bar, width) | stroke((240, 240), stem, width)
    crack = only_crack(measure_cracks(mask))
    assert_length(crack.length_px,
                  polyline_length(bar) + polyline_length(stem))
    assert_width(crack, width)
    assert (crack.junctions, crack.endpoints) == (1, 3)


def test_grid_is_alligator():
    mask = np.zeros((260, 260), bool)
    for v in (60.2, 130.2, 200.2):
        mask |= stroke(mask.shape, [(20.3, v), (240.3, v)], 3)
        mask |= stroke(mask.shape, [(v, 20.3), (v, 240.3)], 3)
    crack = only_crack(measure_cracks(mask))
    assert_length(crack.length_px, 6 * 220.0)
    assert (crack.junctions, crack.endpoints) == (9, 12)
    assert crack.branching  # 9 >= 3
    assert not only_crack(measure_cracks(mask,
                                         alligator_junctions=10)).branching


def test_noisy_boundary_is_pruned():
    """Boundary noise (10 % of the edge pixels flipped each way) grows
    spurs and holes on a skeleton: pruned and filled, the crack keeps its
    two ends, no junction, and its length within 3 %."""
    rng = np.random.default_rng(0)
    mask = stroke((120, 240), segment((120.3, 60.4), 0, 200), 7)
    edge = mask ^ ndi.binary_erosion(mask)
    outside = ndi.binary_dilation(mask) & ~mask
    noisy = ((mask & ~(edge & (rng.random(mask.shape) < 0.1)))
             | (outside & (rng.random(mask.shape) < 0.1)))
    crack = only_crack(measure_cracks(noisy))
    assert (crack.junctions, crack.endpoints) == (0, 2)
    assert_length(crack.length_px, 200.0)
    assert abs(crack.mean_width_px - 7) <= 0.5
    assert 7 <= crack.max_width_px <= 8  # the bumps are 1 px
    raw = only_crack(measure_cracks(noisy, spur_factor=0, max_hole_px=0))
    assert raw.junctions > 0  # what the pruning removes


def test_component_count_and_ids():
    mask = np.zeros((200, 200), bool)
    mask |= stroke(mask.shape, [(150.2, 20.3), (150.2, 180.3)], 3)  # 2nd
    mask |= stroke(mask.shape, [(20.4, 10.2), (120.4, 10.2)], 5)  # 1st
    mask |= stroke(mask.shape, [(20.1, 100.1), (100.1, 180.1)], 1)  # 3rd
    result = measure_cracks(mask)
    assert len(result.cracks) == 3
    assert [c.crack_id for c in result.cracks] == [1, 2, 3]
    assert [c.orientation for c in result.cracks] == [
        'transverse', 'longitudinal', 'diagonal']
    assert set(np.unique(result.labels)) == {0, 1, 2, 3}
    assert (result.labels > 0).sum() == mask.sum()
    # 8-connectivity: pixels touching at a corner are one crack
    two = np.zeros((10, 10), bool)
    two[2, 2] = two[3, 3] = True
    assert group_components(two).max() == 1


@pytest.mark.parametrize('axis', ['horizontal', 'vertical'])
def test_gap_bridging(axis):
    """Two collinear strokes with 3 background pixels between them: two
    cracks for bridge < 3, one for bridge >= 3."""
    mask = np.zeros((60, 220), bool)
    mask[28:33, 20:90] = True  # columns 20..89
    mask[28:33, 93:163] = True  # 90, 91, 92 empty: gap 3
    if axis == 'vertical':
        mask = mask.T.copy()
    for bridge in (0, 1, 2, 2.5):
        result = measure_cracks(mask, bridge=bridge)
        assert len(result.cracks) == 2, bridge
    pieces = sum(c.length_px for c in measure_cracks(mask).cracks)
    for bridge in (3, 4, 10):
        crack = only_crack(measure_cracks(mask, bridge=bridge))
        # measured on the mask's own pixels: the gap is not counted
        assert crack.length_px == pytest.approx(pieces)
        assert crack.area_px == mask.sum()
        assert crack.endpoints == 4


def test_bridge_distance_is_euclidean():
    mask = np.zeros((30, 30), bool)
    mask[10, 10] = mask[13, 14] = True  # 5 px apart: gap 4
    assert group_components(mask, 3.9).max() == 2
    assert group_components(mask, 4).max() == 1


def test_min_length_drops_short_cracks():
    mask = stroke((120, 200), [(20.2, 30.3), (180.2, 30.3)], 3)  # 160
    mask |= stroke(mask.shape, [(40.2, 90.3), (52.2, 90.3)], 3)  # 12
    lengths = [c.length_px for c in measure_cracks(mask).cracks]
    assert len(lengths) == 2
    assert_length(lengths[1], 12.0, tol=0.1)
    result = measure_cracks(mask, min_length=20)
    crack = only_crack(result)
    assert crack.crack_id == 1 and crack.length_px > 150
    assert set(np.unique(result.labels)) == {0, 1}
    assert not result.labels[90, 46]  # the dropped crack is not labelled
    assert len(measure_cracks(mask, min_length=200).cracks) == 0


def test_mm_columns_are_px_times_px_size():
    mask = stroke((120, 200), [(20.2, 30.3), (180.2, 30.3)], 5)
    crack = only_crack(measure_cracks(mask))
    px = crack.row('img')
    assert 'length_mm' not in px
    mm = crack.row('img', px_size=0.25)
    assert mm['length_mm'] == pytest.approx(crack.length_px * 0.25,
                                            abs=1e-4)
    assert mm['max_width_mm'] == pytest.approx(crack.max_width_px * 0.25,
                                               abs=1e-4)
    assert mm['mean_width_mm'] == pytest.approx(crack.mean_width_px * 0.25,
                                                abs=1e-4)
    assert mm['area_mm2'] == pytest.approx(crack.area_px * 0.0625, abs=1e-4)
    assert mm['image'] == 'img' and mm['crack_id'] == 1


def test_probability_map_and_threshold():
    """The threshold picks the crack out of a probability map (p >= t):
    a 9 px halo at 0.4 around a 3 px core at 0.9."""
    prob = np.zeros((120, 200), np.float32)
    prob[stroke(prob.shape, [(20.2, 60.3), (180.2, 60.3)], 9)] = 0.4
    prob[stroke(prob.shape, [(20.2, 60.3), (180.2, 60.3)], 3)] = 0.9
    core = only_crack(measure_cracks(prob, threshold=0.5))
    halo = only_crack(measure_cracks(prob, threshold=0.4))  # 0.4 >= 0.4
    assert core.max_width_px == pytest.approx(3, abs=1.0)
    assert halo.max_width_px == pytest.approx(9, abs=1.0)
    assert len(measure_cracks(prob, threshold=0.95).cracks) == 0
    # the same map as 8-bit v/255
    prob8 = np.round(prob * 255).astype(np.uint8)
    assert only_crack(measure_cracks(prob8, 0.5)).area_px == core.area_px


def test_binarize_rules():
    arr = np.array([[0, 1], [1, 0]], np.uint8)  # a 0/1 mask
    np.testing.assert_array_equal(binarize(arr), arr == 1)
    np.testing.assert_array_equal(binarize(arr * 255, 0.9), arr == 1)
    v = np.array([[127, 128]], np.uint8)  # 127/255 < 0.5 <= 128/255
    np.testing.assert_array_equal(binarize(v, 0.5), [[False, True]])
    p = np.array([[0.29, 0.3, 0.31]], np.float64)
    np.testing.assert_array_equal(binarize(p, 0.3), [[False, True, True]])
    with pytest.raises(ValueError, match='in \\[0, 1\\]'):
        binarize(np.array([[1.5]]))
    with pytest.raises(ValueError, match='threshold'):
        binarize(p, 0.0)
    with pytest.raises(ValueError, match='2-D'):
        binarize(np.zeros((2, 2, 3)))


def test_orientation_bins():
    assert orientation_class(10) == 'transverse'
    assert orientation_class(170) == 'transverse'
    assert orientation_class(22.5) == 'transverse'  # bins are inclusive
    assert orientation_class(23) == 'diagonal'
    assert orientation_class(80) == 'longitudinal'
    assert orientation_class(100) == 'longitudinal'
    assert orientation_class(135) == 'diagonal'
    assert orientation_class(-10) == 'transverse'
    assert orientation_class(10, longitudinal_axis='x') == 'longitudinal'
    assert orientation_class(90, longitudinal_axis='x') == 'transverse'
    assert orientation_class(30, axis_tol_deg=30) == 'transverse'
    with pytest.raises(ValueError):
        orientation_class(0, axis_tol_deg=60)


def test_empty_mask():
    result = measure_cracks(np.zeros((50, 60), np.uint8))
    assert result.cracks == [] and not result.labels.any()


def test_overlay_draws_each_crack():
    mask = stroke((120, 200), [(20.2, 60.3), (180.2, 60.3)], 7)
    result = measure_cracks(mask)
    image = np.full((120, 200, 3), 40, np.uint8)
    out = draw_cracks(image, result, px_size=0.5)
    assert out.shape == (120, 200, 3) and out.dtype == np.uint8
    assert (out[mask] != 40).any(axis=1).all()  # every crack pixel drawn
    assert (out[100:, :] == 40).all()  # far from the crack: untouched
    with pytest.raises(ValueError, match='crack map'):
        draw_cracks(image[:100], result)
