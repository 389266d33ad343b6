"""Exactness of the histogram counts and the ODS / OIS / AP summaries."""
import os.path as osp

import numpy as np
import pytest
from crack_oracle import oracle_counts, oracle_prf, oracle_summary

from mmcrack.evaluation.functional import (
    DEFAULT_THRESHOLDS,
    check_thresholds,
    pr_counts,
    prf_from_counts,
    summarize_pr,
    threshold_bins,
)

SHAPES = [(1, 1), (37, 53), (5, 101), (64, 3)]
GRIDS = {
    'default': None,
    'n10': 10,
    'n255': 255,  # uint8-exact grid, > 2 bins per key byte
    'n1000': 1000,  # int32 keys
    'nonuniform': [0.0, 0.1, 0.1001, 0.5, 0.999, 1.0],
    'random': np.sort(np.random.default_rng(7).random(37)),
}


def random_map(rng, shape, dtype, thresholds):
    """Random probabilities, half of them exactly on grid points."""
    t = check_thresholds(thresholds)
    if dtype == np.uint8:
        return rng.integers(0, 256, shape).astype(np.uint8)
    p = rng.random(shape)
    on_grid = rng.random(shape) < 0.5
    p[on_grid] = rng.choice(np.r_[t, 0.0, 1.0], size=int(on_grid.sum()))
    return p.astype(dtype)


def test_default_grid_is_the_literals():
    assert len(DEFAULT_THRESHOLDS) == 99
    literals = [float(f'0.{k:02d}') for k in range(1, 100)]
    assert DEFAULT_THRESHOLDS.tolist() == literals
    assert check_thresholds(100).tolist() == literals
    with pytest.raises(ValueError, match='increasing'):
        check_thresholds([0.2, 0.1])
    with pytest.raises(ValueError, match='increasing'):
        check_thresholds([0.1, 0.1])
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        check_thresholds([0.5, 1.5])
    with pytest.raises(ValueError, match='non-empty'):
        check_thresholds([])


@pytest.mark.parametrize('grid', list(GRIDS))
@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.uint8])
def test_counts_equal_threshold_loop(grid, dtype):
    thresholds = GRIDS[grid]
    t = check_thresholds(thresholds)
    rng = np.random.default_rng(hash((grid, np.dtype(dtype).name)) % 2**32)
    for shape in SHAPES:
        prob = random_map(rng, shape, dtype, thresholds)
        gt = rng.random(shape) < 0.3
        ignore = rng.random(shape) < 0.1
        np.testing.assert_array_equal(
            pr_counts(prob, gt, thresholds), oracle_counts(prob, gt, t))
        # integer gt with an ignore mask, and with ignore_index
        np.testing.assert_array_equal(
            pr_counts(prob, gt.astype(np.int64), thresholds,
                      ignore_mask=ignore),
            oracle_counts(prob, gt, t, ignore))
        gt255 = np.where(ignore, 255, gt).astype(np.uint8)
        counts, n_ign = pr_counts(prob, gt255, thresholds, ignore_index=255,
                                  return_ignored=True)
        np.testing.assert_array_equal(counts,
                                      oracle_counts(prob, gt, t, ignore))
        assert n_ign == ignore.sum()


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_values_exactly_on_grid_points(dtype):
    """0.29, 0.57 etc. are not exact in binary: p == t must count as p >= t
    under the float64 comparison (float32(0.29) < 0.29 does not)."""
    t = DEFAULT_THRESHOLDS
    vals = np.array([0.29, 0.57, 0.01, 0.99, 0.5, 0.07, 0.0, 1.0])
    prob = np.repeat(vals, 3).reshape(4, 6).astype(dtype)
    gt = np.arange(24).reshape(4, 6) % 2 == 0
    np.testing.assert_array_equal(pr_counts(prob, gt),
                                  oracle_counts(prob, gt, t))
    bins = threshold_bins(np.array([0.29, 0.57, 0.0, 1.0], dtype))
    if dtype == np.float64:
        assert bins.tolist() == [29, 57, 0, 99]  # exactly on the threshold
    else:  # float32(0.29) < 0.29 and float32(0.57) < 0.57 (in float64)
        expected = [int(np.sum(np.float64(np.float32(v)) >= t))
                    for v in (0.29, 0.57, 0.0, 1.0)]
        assert bins.tolist() == expected == [28, 56, 0, 99]
    # every float32 neighbour of every grid value
    near = []
    for x in t:
        f = np.float32(x)
        near += [np.nextafter(f, np.float32(-1)), f,
                 np.nextafter(f, np.float32(2))]
    near = np.array(near, np.float32).reshape(1, -1)
    gt = np.ones(near.shape, bool)
    np.testing.assert_array_equal(pr_counts(near, gt),
                                  oracle_counts(near, gt, t))


def test_uint8_means_v_over_255():
    rng = np.random.default_rng(3)
    v = rng.integers(0, 256, (31, 47)).astype(np.uint8)
    gt = rng.random(v.shape) < 0.2
    for thr in (None, 255, [0.2, 0.4, 0.6]):
        np.testing.assert_array_equal(pr_counts(v, gt, thr),
                                      pr_counts(v / 255.0, gt, thr))
    # 51/255 == 0.2 exactly as doubles -> counted at t = 0.2
    assert threshold_bins(np.array([51], np.uint8), [0.2]).tolist() == [1]


@pytest.mark.parametrize('case', ['empty_gt', 'empty_pred', 'all_crack',
                                  'all_one', 'all_ignored'])
def test_edge_images(case):
    rng = np.random.default_rng(5)
    shape = (9, 13)
    prob = rng.random(shape)
    gt = rng.random(shape) < 0.3
    ignore = None
    if case == 'empty_gt':
        gt[:] = False
    elif case == 'empty_pred':
        prob[:] = 0.0
    elif case == 'all_crack':
        gt[:] = True
    elif case == 'all_one':
        prob[:] = 1.0
    else:
        ignore = np.ones(shape, bool)
    t = DEFAULT_THRESHOLDS
    counts = pr_counts(prob, gt, ignore_mask=ignore)
    np.testing.assert_array_equal(counts, oracle_counts(prob, gt, t, ignore))
    # per-image F1 conventions on this single image
    _, _, f = prf_from_counts(counts)
    want = [oracle_prf(*c)[2] for c in counts]
    np.testing.assert_allclose(f, want, rtol=0, atol=1e-12)
    if case == 'empty_gt':  # P=0 (FP) or P=1,R=1 once nothing is predicted
        assert set(np.unique(f)) <= {0.0, 1.0}
    if case in ('empty_pred', 'all_ignored') or case == 'all_one':
        if case != 'all_one':
            assert counts[:, 0].sum() == counts[:, 1].sum() == 0


def test_prf_conventions_by_hand():
    counts = np.array([[0, 0, 0],    # nothing at all: P=1, R=1, F=1
                       [0, 0, 5],    # P=1, R=0 -> F=2*0/1 = 0
                       [0, 3, 0],    # P=0, R=1 -> F=0
                       [0, 3, 5],    # P=0, R=0 -> F=0 (not NaN)
                       [2, 2, 6]])   # P=.5, R=.25 -> F=1/3
    p, r, f = prf_from_counts(counts)
    np.testing.assert_allclose(p, [1, 1, 0, 0, .5], atol=1e-15)
    np.testing.assert_allclose(r, [1, 0, 1, 0, .25], atol=1e-15)
    np.testing.assert_allclose(f, [1, 0, 0, 0, 1 / 3], atol=1e-15)


def _dataset(rng, n, thresholds, odd=True):
    """Images of different odd sizes incl. empty-GT, empty-prediction and
    all-crack ones; returns per-image counts from the oracle and ours."""
    t = check_thresholds(thresholds)
    ours, ref = [], []
    for i in range(n):
        shape = (int(rng.integers(1, 40)) | 1, int(rng.integers(1, 60)) | 1)
        prob = random_map(rng, shape, np.float32, thresholds)
        gt = rng.random(shape) < rng.uniform(0.02, 0.4)
        if i % 5 == 1:
            gt[:] = False
        if i % 5 == 2:
            prob[:] = 0
        if i % 5 == 3:
            gt[:] = True
        ours.append(pr_counts(prob, gt, thresholds))
        ref.append(oracle_counts(prob, gt, t))
    return np.stack(ours), ref


@pytest.mark.parametrize('f1_mode', ['mean', 'pooled'])
@pytest.mark.parametrize('grid', ['default', 'n10', 'nonuniform'])
def test_summary_equals_oracle(f1_mode, grid):
    thresholds = GRIDS[grid]
    rng = np.random.default_rng(11)
    counts, ref_counts = _dataset(rng, 12, thresholds)
    np.testing.assert_array_equal(counts, np.stack(ref_counts))
    s = summarize_pr(counts, thresholds, f1_mode)
    o = oracle_summary(ref_counts, check_thresholds(thresholds), f1_mode)
    for key in ('ODS', 'OIS', 'AP', 'ODS_thr'):
        assert abs(s[key] - o[key]) <= 1e-12, (key, s[key], o[key])
    np.testing.assert_allclose(s['precision'], o['precision'], rtol=0,
                               atol=1e-12)
    np.testing.assert_allclose(s['recall'], o['recall'], rtol=0, atol=1e-12)
    assert s['n_images'] == 12 and s['f1_mode'] == f1_mode
    for key in ('ODS', 'OIS', 'AP'):
        assert 0 <= s[key] <= 1


def test_pooled_differs_from_mean_and_single_image_agrees():
    rng = np.random.default_rng(2)
    counts, _ = _dataset(rng, 8, None)
    mean = summarize_pr(counts, f1_mode='mean')
    pooled = summarize_pr(counts, f1_mode='pooled')
    assert mean['AP'] == pooled['AP']
    assert mean['ODS'] != pooled['ODS']
    one = counts[:1]
    a, b = summarize_pr(one), summarize_pr(one, f1_mode='pooled')
    for key in ('ODS', 'OIS', 'ODS_thr'):
        assert abs(a[key] - b[key]) < 1e-12


def _sklearn_ap(gt, score):
    from sklearn.metrics import average_precision_score
    return average_precision_score(gt.ravel().astype(int), score.ravel())


@pytest.mark.parametrize('grid', ['default', 'n10', 'random'])
def test_ap_equals_sklearn_on_grid_valued_maps(grid):
    t = check_thresholds(GRIDS[grid])
    rng = np.random.default_rng(21)
    probs, gts, counts = [], [], []
    for _ in range(6):
        shape = (int(rng.integers(3, 30)), int(rng.integers(3, 30)))
        gt = rng.random(shape) < 0.25
        # grid-valued scores correlated with gt
        idx = np.clip(rng.normal(len(t) * (0.3 + 0.4 * gt), len(t) / 4),
                      0, len(t) - 1).astype(int)
        prob = t[idx]
        probs.append(prob.ravel())
        gts.append(gt.ravel())
        counts.append(pr_counts(prob, gt, t))
    ap = summarize_pr(np.stack(counts), t)['AP']
    ref = _sklearn_ap(np.concatenate(gts), np.concatenate(probs))
    assert abs(ap - ref) <= 1e-9, (ap, ref)


DEEPCRACK = osp.join(osp.dirname(__file__), '..', '..', '..', 'shared',
                     'datasets', 'DeepCrack')


@pytest.mark.slow
@pytest.mark.skipif(not osp.isdir(DEEPCRACK), reason='no DeepCrack data')
def test_real_deepcrack_pair():
    """A real image/mask pair; the 'prediction' is a grid-quantised mix of
    the blurred mask and the image darkness (no model needed)."""
    import cv2

    from mmcrack.datasets.mask_utils import binarize_mask
    from mmcrack.utils.file_io import read_image
    img = read_image(osp.join(DEEPCRACK, 'images', 'test', '11125-1.jpg'),
                     'grayscale')
    mask = read_image(osp.join(DEEPCRACK, 'masks', 'test', '11125-1.png'),
                      'unchanged')
    gt = binarize_mask(mask)
    assert gt.shape == img.shape and 0 < gt.sum() < gt.size
    blur = cv2.GaussianBlur(gt.astype(np.float64), (0, 0), 3)
    score = 0.6 * blur / blur.max() + 0.4 * (1 - img / 255.0)
    t = DEFAULT_THRESHOLDS
    prob = t[np.clip(np.round(score * 100).astype(int) - 1, 0, 98)]
    counts = pr_counts(prob, gt)
    np.testing.assert_array_equal(counts, oracle_counts(prob, gt, t))
    s = summarize_pr(counts[None])
    assert abs(s['AP'] - _sklearn_ap(gt, prob)) <= 1e-9
    o = oracle_summary([counts], t)
    assert abs(s['ODS'] - o['ODS']) <= 1e-12
    assert 0.3 < s['ODS'] < 1  # a plausible, non-trivial value


@pytest.mark.parametrize('bad, match', [
    (np.nan, '1 NaN'),
    (np.inf, '1 inf'),
    (1.5, r'outside \[0, 1\]'),
    (-0.1, r'outside \[0, 1\]'),
])
def test_bad_probabilities_name_the_image(bad, match):
    prob = np.full((4, 5), 0.5)
    prob[2, 3] = bad
    with pytest.raises(ValueError, match=match) as e:
        pr_counts(prob, np.zeros((4, 5), bool), name='img_007.png')
    assert 'img_007.png' in str(e.value)


def test_bad_inputs():
    with pytest.raises(ValueError, match='shape'):
        pr_counts(np.zeros((4, 5)), np.zeros((5, 4), bool), name='a')
    with pytest.raises(ValueError, match=r'values \[2\].*binarize_mask'):
        pr_counts(np.zeros((2, 2)), np.array([[0, 1], [2, 0]]))
    with pytest.raises(ValueError, match=r'values \[255\]'):  # no ignore
        pr_counts(np.zeros((2, 2)), np.array([[0, 1], [255, 0]]))
    with pytest.raises(ValueError, match='dtype int64'):
        pr_counts(np.zeros((2, 2), np.int64), np.zeros((2, 2), bool))
    with pytest.raises(ValueError, match='empty'):
        pr_counts(np.zeros((0, 3)), np.zeros((0, 3), bool))
    with pytest.raises(ValueError, match='no images'):
        summarize_pr(np.zeros((0, 99, 3), np.int64))
    with pytest.raises(ValueError, match='f1_mode'):
        summarize_pr(np.zeros((1, 99, 3), np.int64), f1_mode='macro')
    # 255 under an explicit ignore mask is fine
    counts = pr_counts(np.ones((2, 2)), np.array([[0, 1], [255, 0]]),
                       ignore_mask=np.array([[0, 0], [1, 0]], bool))
    assert counts[0].tolist() == [1, 2, 0]
