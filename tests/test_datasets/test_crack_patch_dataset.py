"""CrackPatchDataset and LoadCrackPatch: exact windows and labels."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.registry import DefaultScope

import mmcrack  # noqa: F401
from mmcrack.datasets import CrackPatchDataset, window_labels
from mmcrack.datasets.transforms import LoadCrackPatch, dihedral


@pytest.fixture(autouse=True)
def mmpretrain_scope():
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield


def _write(root, stem, img, mask, split='train'):
    os.makedirs(osp.join(root, 'images', split), exist_ok=True)
    os.makedirs(osp.join(root, 'masks', split), exist_ok=True)
    cv2.imwrite(osp.join(root, 'images', split, stem + '.png'), img)
    cv2.imwrite(osp.join(root, 'masks', split, stem + '.png'), mask)


def _dataset(root, **kwargs):
    kwargs.setdefault('pipeline', [dict(type='LoadCrackPatch',
                                        with_mask=True)])
    return CrackPatchDataset(
        data_root=str(root),
        data_prefix=dict(img_path='images/train',
                         seg_map_path='masks/train'),
        **kwargs)


def _slow_labels(mask, size, stride, min_px):
    """Obvious oracle: pad with numpy reflect, loop over windows."""
    h, w = mask.shape
    padded = np.pad(mask, ((0, (-h) % size), (0, (-w) % size)),
                    mode='reflect' if min(h, w) > 1 else 'edge')
    out = []
    for y in range(0, padded.shape[0] - size + 1, stride):
        for x in range(0, padded.shape[1] - size + 1, stride):
            out.append((y, x, int(padded[y:y + size, x:x + size].sum() >=
                                  min_px)))
    return out


@pytest.mark.parametrize('shape,size,stride,min_px', [
    ((100, 150), 32, 16, 1), ((64, 64), 32, 16, 3), ((20, 45), 32, 16, 1),
    ((129, 130), 128, 64, 1), ((1, 40), 8, 4, 1)
])
def test_window_labels_match_loop(shape, size, stride, min_px):
    rng = np.random.default_rng(0)
    mask = (rng.random(shape) < 0.002).astype(np.uint8)
    ys, xs, labels = window_labels(mask, size, stride, min_px)
    assert list(zip(ys.tolist(), xs.tolist(), labels.tolist())) == \
        _slow_labels(mask, size, stride, min_px)


def test_hand_made_mask_counts_labels_and_border(tmp_path):
    """96x160 image, patch 64 stride 32 -> padded 128x192 -> 3x5 windows."""
    img = np.full((96, 160, 3), 150, np.uint8)
    mask = np.zeros((96, 160), np.uint8)
    mask[10, 10] = 255  # in windows whose y<=10<y+64 and x<=10<x+64
    mask[95, 159] = 255  # bottom-right corner pixel; reflected into padding
    _write(tmp_path, 'a', img, mask)
    ds = _dataset(tmp_path, patch_size=64, stride=32)
    assert len(ds) == 3 * 5
    labels = {(d['patch_y'], d['patch_x']): d['gt_label']
              for d in (ds.get_data_info(i) for i in range(len(ds)))}
    # pixel (10, 10): only windows starting at y=0, x=0
    assert labels[(0, 0)] == 1
    # pixel (95, 159) and its reflections (97, 159), (95, 161), (97, 161)
    # in the padded mask: windows starting at y in {32, 64}, x in {96, 128}
    crack = {k for k, v in labels.items() if v}
    assert crack == {(0, 0), (32, 96), (32, 128), (64, 96), (64, 128)}
    assert list(ds.get_gt_labels()) == [labels[k] for k in sorted(labels)]


def test_crack_patch_min_pixels_threshold(tmp_path):
    img = np.full((64, 64, 3), 150, np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[5, 5:8] = 255  # 3 crack pixels in the single window
    _write(tmp_path, 'a', img, mask)
    assert _dataset(tmp_path, patch_size=64, stride=64,
                    crack_patch_min_pixels=3).get_gt_labels().tolist() == [1]
    assert _dataset(tmp_path, patch_size=64, stride=64,
                    crack_patch_min_pixels=4).get_gt_labels().tolist() == [0]


def test_dihedral_index_arithmetic_and_same_transform(tmp_path):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (64, 64, 3), np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[3:30, 7] = 255
    mask[40, 10:50] = 255
    _write(tmp_path, 'a', img, mask)
    ds = _dataset(tmp_path, patch_size=64, stride=64, dihedral_aug=True)
    assert len(ds) == 8 and ds.get_gt_labels().tolist() == [1] * 8
    seen = set()
    for i in range(8):
        out = ds[i]
        assert out['dihedral'] == i
        patch, m = out['img'], out['gt_seg_map']
        np.testing.assert_array_equal(patch, dihedral(img, i))
        np.testing.assert_array_equal(m, dihedral((mask > 0).astype(
            np.uint8), i))
        # the image's dark ... the mask marks the same pixels in both
        seen.add(patch.tobytes())
    assert len(seen) == 8  # 8 distinct symmetries


def test_random_dihedral_one_sample_per_window_all_transforms(tmp_path):
    """'random': the index is not multiplied; each fetch applies one of the
    8 transforms (image and mask alike), all 8 occur, seeded by np.random."""
    rng = np.random.default_rng(2)
    img = rng.integers(0, 255, (64, 128, 3), np.uint8)
    mask = np.zeros((64, 128), np.uint8)
    mask[5:40, 9] = 255
    _write(tmp_path, 'a', img, mask)
    ds = _dataset(tmp_path, patch_size=64, stride=64, dihedral_aug='random')
    assert len(ds) == 2 and ds.get_gt_labels().tolist() == [1, 0]
    np.random.seed(0)
    ts = []
    for _ in range(64):
        out = ds[0]
        t = out['dihedral']
        ts.append(t)
        np.testing.assert_array_equal(out['img'], dihedral(img[:, :64], t))
        np.testing.assert_array_equal(
            out['gt_seg_map'], dihedral((mask[:, :64] > 0).astype(np.uint8),
                                        t))
    assert sorted(set(ts)) == list(range(8))
    np.random.seed(0)
    assert [ds.get_data_info(0)['dihedral'] for _ in range(64)] == ts
    with pytest.raises(ValueError, match='dihedral_aug'):
        _dataset(tmp_path, dihedral_aug='x8')
    # numpy / int truth values (e.g. from a parsed config) mean True/False
    assert len(_dataset(tmp_path, patch_size=64, stride=64,
                        dihedral_aug=np.bool_(True))) == 16
    assert len(_dataset(tmp_path, patch_size=64, stride=64,
                        dihedral_aug=0)) == 2


def test_dihedral_group():
    a = np.arange(12).reshape(3, 4)
    outs = {dihedral(a, t).tobytes() + bytes(dihedral(a, t).shape)
            for t in range(8)}
    assert len(outs) == 8
    np.testing.assert_array_equal(dihedral(a, 0), a)
    np.testing.assert_array_equal(dihedral(a, 1), a[:, ::-1])
    np.testing.assert_array_equal(dihedral(a, 3), np.rot90(a, 2))
    with pytest.raises(ValueError):
        dihedral(a, 8)


def test_image_smaller_than_a_patch_is_padded(tmp_path):
    img = np.full((20, 30, 3), 100, np.uint8)
    mask = np.zeros((20, 30), np.uint8)
    mask[19, 29] = 255
    _write(tmp_path, 'small', img, mask)
    ds = _dataset(tmp_path, patch_size=64, stride=32)
    assert len(ds) == 1 and ds.get_gt_labels().tolist() == [1]
    assert ds[0]['img'].shape == (64, 64, 3)


def test_bad_inputs_are_named(tmp_path):
    img = np.full((64, 64, 3), 100, np.uint8)
    _write(tmp_path, 'a', img, np.zeros((64, 64), np.uint8))
    # a 0/1 mask under the 0/255 rule
    cv2.imwrite(str(tmp_path / 'masks/train/a.png'),
                np.eye(64, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"a\.png.*mask_rule='nonzero'"):
        _dataset(tmp_path)
    assert _dataset(tmp_path, mask_rule='nonzero').get_gt_labels().sum() > 0
    # an image without mask
    cv2.imwrite(str(tmp_path / 'images/train/lonely.png'), img)
    with pytest.raises(ValueError, match='lonely'):
        _dataset(tmp_path, mask_rule='nonzero')
    # split file naming a missing stem
    (tmp_path / 'split.txt').write_text('a\nghost\n')
    with pytest.raises(ValueError, match='ghost'):
        _dataset(tmp_path, mask_rule='nonzero', ann_file='split.txt')


def test_folder_source(tmp_path):
    for name, n in (('crack', 2), ('no_crack', 3)):
        os.makedirs(tmp_path / name)
        for i in range(n):
            cv2.imwrite(str(tmp_path / name / f'{i}.png'),
                        np.full((40, 40, 3), 10 * i, np.uint8))
    # files of patch_size are loaded as stored (more in
    # test_crack_patch_folders.py)
    ds = CrackPatchDataset(source='folders', patch_size=40, data_prefix=dict(
        img_path=str(tmp_path)), pipeline=[dict(type='LoadCrackPatch')])
    assert ds.get_gt_labels().tolist() == [1, 1, 0, 0, 0]
    assert ds[1]['img'].shape == (40, 40, 3)
    assert (ds[1]['img'] == 10).all() and (ds[4]['img'] == 20).all()
    for f in os.listdir(tmp_path / 'crack'):
        os.remove(tmp_path / 'crack' / f)
    with pytest.raises(ValueError,
                       match=r"class 'crack' folder .*crack holds no"):
        CrackPatchDataset(source='folders',
                          data_prefix=dict(img_path=str(tmp_path)))


def test_lru_cache_is_bounded(tmp_path):
    for i in range(5):
        _write(tmp_path, f'{i}', np.full((32, 32, 3), i, np.uint8),
               np.zeros((32, 32), np.uint8))
    ds = _dataset(tmp_path, patch_size=32, stride=32,
                  pipeline=[dict(type='LoadCrackPatch', cache_size=2)])
    for i in range(5):
        assert ds[i]['img'][0, 0, 0] == i
    loader = ds.pipeline.transforms[0]
    assert isinstance(loader, LoadCrackPatch)
    assert len(loader._images.items) == 2


def test_real_dataset_index(tmp_path):
    from conftest import SHARED_DATASETS
    root = osp.join(SHARED_DATASETS, 'CFD')
    if not osp.isdir(root):
        pytest.skip('shared datasets not present')
    ds = CrackPatchDataset(data_root=root, data_prefix=dict(
        img_path='images/train', seg_map_path='masks/train'))
    # 480x320 -> padded 512x384 -> 5 x 7 windows of 128 at stride 64
    assert len(ds) == 64 * 35
    counts = ds.class_counts()
    assert counts.sum() == 64 * 35 and counts.min() > 0


def test_size_mismatch_and_fixed_classes(tmp_path):
    _write(tmp_path, 'a', np.full((64, 64, 3), 100, np.uint8),
           np.zeros((64, 63), np.uint8))
    with pytest.raises(ValueError, match=r'size mismatch: image .*a\.png'):
        _dataset(tmp_path)
    with pytest.raises(ValueError, match='classes are fixed'):
        _dataset(tmp_path, metainfo=dict(classes=('crack', 'no_crack')))
    with pytest.raises(ValueError, match="does not support 'indices'"):
        _dataset(tmp_path, indices=3)


def test_unusual_mask_values_are_reported(tmp_path, capsys):
    from mmengine.logging import MMLogger
    MMLogger.get_instance('mmcrack-test')
    mask = np.zeros((64, 64), np.uint8)
    mask[10, 10:20] = 200  # JPEG-like grey values
    _write(tmp_path, 'a', np.full((64, 64, 3), 100, np.uint8), mask)
    ds = _dataset(tmp_path, patch_size=64, stride=64)
    assert ds.get_gt_labels().tolist() == [1]
