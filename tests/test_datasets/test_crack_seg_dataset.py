"""CrackSegDataset: pairing by stem, binarisation, bad input."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

import mmcrack  # noqa: F401
from mmcrack.datasets import CrackSegDataset, binarize_mask
from mmcrack.datasets.transforms import LoadCrackAnnotations


@pytest.fixture(autouse=True)
def mmseg_scope():
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield


PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCrackAnnotations'),
    dict(type='PackSegInputs'),
]


def _write(root, split, stem, img=None, mask=None, img_ext='.jpg'):
    if img is not None:
        os.makedirs(osp.join(root, 'images', split), exist_ok=True)
        cv2.imwrite(osp.join(root, 'images', split, stem + img_ext), img)
    if mask is not None:
        os.makedirs(osp.join(root, 'masks', split), exist_ok=True)
        cv2.imwrite(osp.join(root, 'masks', split, stem + '.png'), mask)


def _dataset(root, split='train', **kwargs):
    return CrackSegDataset(
        data_root=str(root),
        data_prefix=dict(img_path=f'images/{split}',
                         seg_map_path=f'masks/{split}'),
        pipeline=PIPELINE,
        **kwargs)


def _pair(h=20, w=30, crack_cols=(5, 6)):
    img = np.full((h, w, 3), 150, np.uint8)
    mask = np.zeros((h, w), np.uint8)
    mask[:, crack_cols[0]:crack_cols[1]] = 255
    img[mask > 0] = 40
    return img, mask


def test_pairs_by_stem_and_maps_255_to_1(tmp_path):
    img, mask = _pair()
    for stem in ('b', 'a', 'c'):
        _write(tmp_path, 'train', stem, img, mask)
    ds = _dataset(tmp_path)
    assert len(ds) == 3
    assert [osp.basename(d['img_path']) for d in ds.load_data_list()] == [
        'a.jpg', 'b.jpg', 'c.jpg'
    ]
    assert ds.metainfo['classes'] == ('background', 'crack')
    sample = ds[0]['data_samples']
    gt = sample.gt_sem_seg.data.numpy()[0]
    np.testing.assert_array_equal(gt, (mask > 0).astype(np.uint8))


def test_crack_pixel_reaches_the_loss_as_one(tmp_path):
    """A mask left at 255 would be ignore_index and cost nothing."""
    from mmseg.models.losses import CrossEntropyLoss
    img, mask = _pair()
    _write(tmp_path, 'train', 'a', img, mask)
    gt = _dataset(tmp_path)[0]['data_samples'].gt_sem_seg.data.long()
    n_crack = int((mask > 0).sum())
    logits = torch.full((1, 1) + gt.shape[1:], -10.0)  # "no crack" everywhere
    loss = CrossEntropyLoss(use_sigmoid=True)(logits, gt, ignore_index=255)
    # softplus(10) on crack pixels, softplus(-10) elsewhere, mean over pixels
    expected = (n_crack * np.log1p(np.exp(10.0)) +
                (gt.numel() - n_crack) * np.log1p(np.exp(-10.0))) / gt.numel()
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert loss.item() > 0.3  # ~4.5e-5 if crack pixels were ignored


def test_binarize_rules():
    m = np.array([[0, 1, 127, 128, 255]], np.uint8)
    np.testing.assert_array_equal(binarize_mask(m, 'ge128'), [[0, 0, 0, 1, 1]])
    np.testing.assert_array_equal(
        binarize_mask(m, 'nonzero'), [[0, 1, 1, 1, 1]])
    m16 = np.array([[0, 128 * 257 - 1, 128 * 257, 65535]], np.uint16)
    np.testing.assert_array_equal(binarize_mask(m16), [[0, 0, 1, 1]])
    rgb = np.stack([m] * 3, -1)
    np.testing.assert_array_equal(binarize_mask(rgb), [[0, 0, 0, 1, 1]])
    with pytest.raises(ValueError, match='0/1 values'):
        binarize_mask(np.array([[0, 1]], np.uint8), 'ge128')
    with pytest.raises(ValueError, match='unknown mask binarisation rule'):
        binarize_mask(m, 'half')


def test_jpeg_compressed_mask_keeps_its_crack(tmp_path):
    img, mask = _pair(64, 64, (30, 33))
    os.makedirs(tmp_path / 'images/train')
    os.makedirs(tmp_path / 'masks/train')
    cv2.imwrite(str(tmp_path / 'images/train/a.png'), img)
    cv2.imwrite(str(tmp_path / 'masks/train/a.jpg'), mask,
                [cv2.IMWRITE_JPEG_QUALITY, 50])
    gt = _dataset(tmp_path)[0]['data_samples'].gt_sem_seg.data.numpy()[0]
    np.testing.assert_array_equal(gt, mask > 0)


def test_nonzero_rule_for_01_masks(tmp_path):
    img, mask = _pair()
    _write(tmp_path, 'train', 'a', img, (mask > 0).astype(np.uint8))
    with pytest.raises(ValueError, match=r"a\.png: .*mask_rule='nonzero'"):
        _dataset(tmp_path)[0]
    gt = _dataset(tmp_path, mask_rule='nonzero')[0]['data_samples']
    np.testing.assert_array_equal(gt.gt_sem_seg.data.numpy()[0], mask > 0)


def test_unpaired_stems_listed_in_one_error(tmp_path):
    img, mask = _pair()
    _write(tmp_path, 'train', 'a', img, mask)
    _write(tmp_path, 'train', 'img_only1', img=img)
    _write(tmp_path, 'train', 'img_only2', img=img)
    with pytest.raises(ValueError) as info:
        _dataset(tmp_path)
    assert 'img_only1, img_only2' in str(info.value)
    assert '2 image(s)' in str(info.value)


def test_mask_without_image_is_an_error(tmp_path):
    img, mask = _pair()
    _write(tmp_path, 'train', 'a', img, mask)
    _write(tmp_path, 'train', 'orphan', mask=mask)
    with pytest.raises(ValueError,
                       match=r"mask\(s\) .* have no image .*orphan"):
        _dataset(tmp_path)


def test_size_mismatch_names_both_files(tmp_path):
    img, _ = _pair(20, 30)
    _, mask = _pair(20, 31)
    _write(tmp_path, 'train', 'a', img, mask)
    with pytest.raises(ValueError) as info:
        _dataset(tmp_path)
    msg = str(info.value)
    assert 'size mismatch' in msg and 'a.jpg' in msg and 'a.png' in msg


def test_unreadable_image_named(tmp_path):
    img, mask = _pair()
    _write(tmp_path, 'train', 'a', img, mask)
    with open(tmp_path / 'images/train/a.jpg', 'wb') as f:
        f.write(b'\xff\xd8\xff not really a jpeg')
    with pytest.raises(ValueError, match=r'a\.jpg.*cannot be read'):
        _dataset(tmp_path)


def test_empty_folder_named(tmp_path):
    os.makedirs(tmp_path / 'images/train')
    os.makedirs(tmp_path / 'masks/train')
    with pytest.raises(ValueError, match=r'no image files .*images/train'):
        _dataset(tmp_path)


def test_missing_folder_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'images/train'):
        _dataset(tmp_path)


def test_split_file_and_missing_stems(tmp_path):
    img, mask = _pair()
    for stem in ('a', 'b', 'c'):
        _write(tmp_path, 'train', stem, img, mask)
    (tmp_path / 'split.txt').write_text('c\n# comment\nb.jpg\n\n')
    ds = _dataset(tmp_path, ann_file='split.txt')
    assert [osp.basename(d['img_path']) for d in ds.load_data_list()] == [
        'c.jpg', 'b.jpg'
    ]
    (tmp_path / 'bad.txt').write_text('a\nzzz\n')
    with pytest.raises(ValueError, match=r'split lists 1 stem.*zzz'):
        _dataset(tmp_path, ann_file='bad.txt')


def test_seg_map_dir_redirects_masks(tmp_path):
    img, mask = _pair()
    _write(tmp_path, 'train', 'a', img, mask)
    other = np.zeros_like(mask)
    other[3:5, :] = 255
    os.makedirs(tmp_path / 'pseudo')
    cv2.imwrite(str(tmp_path / 'pseudo/a.png'), other)
    ds = _dataset(tmp_path, seg_map_dir='pseudo')
    gt = ds[0]['data_samples'].gt_sem_seg.data.numpy()[0]
    np.testing.assert_array_equal(gt, other > 0)


def test_load_annotations_checks_size_against_image(tmp_path):
    _, mask = _pair(20, 30)
    cv2.imwrite(str(tmp_path / 'm.png'), mask)
    t = LoadCrackAnnotations()
    with pytest.raises(ValueError, match=r'size mismatch: mask .*m\.png'):
        t(dict(seg_map_path=str(tmp_path / 'm.png'), ori_shape=(21, 30),
               img_path='x.jpg'))


def test_real_dataset_pairs(tmp_path):
    from conftest import SHARED_DATASETS
    root = osp.join(SHARED_DATASETS, 'CFD')
    if not osp.isdir(root):
        pytest.skip('shared datasets not present')
    ds = _dataset(root, split='val')
    assert len(ds) == 7
    gt = ds[0]['data_samples'].gt_sem_seg.data.numpy()
    assert set(np.unique(gt)) <= {0, 1} and gt.sum() > 0


@pytest.mark.parametrize('damage', ['empty', 'truncated_jpg', 'truncated_png'])
def test_damaged_files_named(tmp_path, damage):
    img, mask = _pair(64, 64)
    _write(tmp_path, 'train', 'ok', img, mask)
    _write(tmp_path, 'train', 'bad', img, mask,
           img_ext='.png' if damage == 'truncated_png' else '.jpg')
    path = tmp_path / 'images/train' / (
        'bad.png' if damage == 'truncated_png' else 'bad.jpg')
    data = path.read_bytes()
    path.write_bytes(b'' if damage == 'empty' else data[:len(data) // 2])
    with pytest.raises(ValueError) as info:
        _dataset(tmp_path)
    msg = str(info.value)
    assert str(path) in msg
    assert ('empty' in msg) if damage == 'empty' else ('cannot be read'
                                                       in msg)
