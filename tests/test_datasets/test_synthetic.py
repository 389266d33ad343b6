"""Synthetic crack generator: determinism, exact masks, hard for global
Otsu."""
import os.path as osp

import cv2
import numpy as np
import pytest
from skimage.filters import threshold_otsu

from mmcrack.datasets.synthetic import (
    DEFAULT_SPLITS,
    make_synthetic_sample,
    write_synthetic_dataset,
)


def test_deterministic_for_a_seed():
    a_img, a_mask = make_synthetic_sample(3, 5)
    b_img, b_mask = make_synthetic_sample(3, 5)
    np.testing.assert_array_equal(a_img, b_img)
    np.testing.assert_array_equal(a_mask, b_mask)
    c_img, _ = make_synthetic_sample(4, 5)
    d_img, _ = make_synthetic_sample(3, 6)
    assert not np.array_equal(a_img, c_img)
    assert not np.array_equal(a_img, d_img)


def test_output_types_and_ranges():
    img, mask = make_synthetic_sample(0, 0)
    assert img.shape == (256, 256, 3) and img.dtype == np.uint8
    assert mask.shape == (256, 256) and mask.dtype == np.uint8
    assert set(np.unique(mask)) <= {0, 1}


def test_masks_are_exact_cracks_darker_than_their_surroundings():
    """On every cracked image the masked pixels are darker than a thin ring
    around them, and thin: 95 % of mask pixels lie within 4 px (half the
    widest crack plus one) of the background (crossings are thicker)."""
    n_cracked = 0
    for i in range(30):
        img, mask = make_synthetic_sample(0, i)
        if not mask.any():
            continue
        n_cracked += 1
        grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(float)
        ring = cv2.dilate(mask, np.ones((7, 7), np.uint8)) - mask
        assert grey[mask > 0].mean() < grey[ring > 0].mean() - 10
        dist = cv2.distanceTransform(mask, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        assert np.percentile(dist[mask > 0], 95) <= 4.0
        assert 0.001 < mask.mean() < 0.1
    assert 20 <= n_cracked < 30  # some crack-free images, most cracked


def test_global_otsu_does_badly_on_default_set():
    tp = fp = fn = 0
    for i in range(DEFAULT_SPLITS['test']):
        img, mask = make_synthetic_sample(0, i)
        grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        pred = grey < threshold_otsu(grey)
        gt = mask > 0
        tp += int((pred & gt).sum())
        fp += int((pred & ~gt).sum())
        fn += int((~pred & gt).sum())
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 < 0.5


def test_written_layout_is_deterministic_and_resumable(tmp_path):
    splits = dict(train=3, test=2)
    write_synthetic_dataset(str(tmp_path / 'a'), seed=7, splits=splits)
    write_synthetic_dataset(str(tmp_path / 'b'), seed=7,
                            splits=dict(test=2))  # test split alone
    for name in ('test_0000.png', 'test_0001.png'):
        for kind in ('images', 'masks'):
            a = cv2.imread(str(tmp_path / 'a' / kind / 'test' / name),
                           cv2.IMREAD_UNCHANGED)
            b = cv2.imread(str(tmp_path / 'b' / kind / 'test' / name),
                           cv2.IMREAD_UNCHANGED)
            np.testing.assert_array_equal(a, b)
    mask = cv2.imread(str(tmp_path / 'a/masks/train/train_0000.png'),
                      cv2.IMREAD_UNCHANGED)
    assert set(np.unique(mask)) <= {0, 255}
    # train and test images differ
    tr = cv2.imread(str(tmp_path / 'a/images/train/train_0000.png'))
    te = cv2.imread(str(tmp_path / 'a/images/test/test_0000.png'))
    assert not np.array_equal(tr, te)
    # a second call keeps existing files (resume) ...
    path = tmp_path / 'a/images/train/train_0001.png'
    mtime = osp.getmtime(path)
    write_synthetic_dataset(str(tmp_path / 'a'), seed=7, splits=splits)
    assert osp.getmtime(path) == mtime
    # ... and rewrites a missing one identically
    ref = cv2.imread(str(path))
    path.unlink()
    write_synthetic_dataset(str(tmp_path / 'a'), seed=7, splits=splits)
    np.testing.assert_array_equal(cv2.imread(str(path)), ref)


def test_readable_by_crack_seg_dataset(tiny_synthetic):
    from mmengine.registry import DefaultScope

    import mmcrack  # noqa: F401
    from mmcrack.datasets import CrackSegDataset
    with DefaultScope.overwrite_default_scope('mmseg'):
        ds = CrackSegDataset(
            data_root=tiny_synthetic,
            data_prefix=dict(img_path='images/train',
                             seg_map_path='masks/train'),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadCrackAnnotations'),
                dict(type='PackSegInputs')
            ])
    assert len(ds) == 4
    gt = ds[0]['data_samples'].gt_sem_seg.data
    assert gt.max() == 1 and gt.min() == 0


@pytest.mark.parametrize('size', [(64, 96), (31, 17)])
def test_other_sizes(size):
    import dataclasses

    from mmcrack.datasets.synthetic import SyntheticCrackConfig
    cfg = dataclasses.replace(SyntheticCrackConfig(), height=size[0],
                              width=size[1])
    img, mask = make_synthetic_sample(0, 1, cfg)
    assert img.shape == size + (3, ) and mask.shape == size
