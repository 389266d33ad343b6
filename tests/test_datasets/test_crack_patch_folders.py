"""CrackPatchDataset on weak labels: class folders and image-level lists.

Pixels are checked exactly against cv2.resize / numpy crops, labels against
the folder or list they come from, and no mask is ever opened.
"""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from conftest import REPO, record_file_access
from mmengine.config import Config
from mmengine.registry import DefaultScope

import mmcrack  # noqa: F401
from mmcrack.datasets import CrackPatchDataset
from mmcrack.datasets import patch_folders as pf
from mmcrack.datasets.transforms import dihedral
from mmcrack.datasets.transforms.patch_loading import fit_to_square


@pytest.fixture(autouse=True)
def mmpretrain_scope():
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield


def _img(h, w, seed):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), np.uint8)


def _write(path, arr):
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    assert cv2.imwrite(str(path), arr)
    return str(path)


def _folders(root, layout, size=(40, 40)):
    """``layout``: {relative folder: number of images}; image k of a
    folder has a distinct seed. Returns {key: BGR array}."""
    out, seed = {}, 0
    for folder, n in layout.items():
        for k in range(n):
            seed += 1
            arr = _img(*size, seed)
            _write(osp.join(root, folder, f'{k:03d}.png'), arr)
            out[f'{folder}/{k:03d}'] = arr
    return out


def _ds(root, **kwargs):
    kwargs.setdefault('pipeline', [dict(type='LoadCrackPatch')])
    return CrackPatchDataset(source='folders',
                             data_prefix=dict(img_path=str(root)), **kwargs)


def _keys(ds):
    root = ds.data_prefix['img_path']
    return [osp.relpath(osp.splitext(p)[0], root) for p in ds.img_paths]


# ------------------------------------------------------------ class maps
def test_flat_positive_negative_default_map(tmp_path):
    imgs = _folders(tmp_path, {'Positive': 2, 'Negative': 3})
    ds = _ds(tmp_path, patch_size=40)
    assert _keys(ds) == ['Negative/000', 'Negative/001', 'Negative/002',
                         'Positive/000', 'Positive/001']
    assert ds.get_gt_labels().tolist() == [0, 0, 0, 1, 1]
    assert ds.metainfo['classes'] == ('no_crack', 'crack')
    for i, key in enumerate(_keys(ds)):  # exact size: pixels as stored
        np.testing.assert_array_equal(ds[i]['img'], imgs[key])
        assert ds[i]['gt_label'] == int(key.startswith('Positive'))


def test_nested_globbed_sdnet_layout(tmp_path):
    _folders(tmp_path, {'D/CD': 2, 'D/UD': 3, 'P/CP': 1, 'P/UP': 2,
                        'W/CW': 1, 'W/UW': 1})
    ds = _ds(tmp_path, patch_size=40)
    labels = dict(zip(_keys(ds), ds.get_gt_labels().tolist()))
    assert labels == {
        'D/CD/000': 1, 'D/CD/001': 1, 'D/UD/000': 0, 'D/UD/001': 0,
        'D/UD/002': 0, 'P/CP/000': 1, 'P/UP/000': 0, 'P/UP/001': 0,
        'W/CW/000': 1, 'W/UW/000': 0}
    # a recursive pattern reaches any depth; listing is not recursive
    _folders(tmp_path / 'deep', {'a/b/crack': 2, 'a/b/no_crack': 1,
                                 'a/b/crack/extra': 4})
    ds = _ds(tmp_path / 'deep', patch_size=40,
             class_dirs=dict(crack='**/crack', no_crack=['**/no_crack']))
    assert _keys(ds) == ['a/b/crack/000', 'a/b/crack/001',
                         'a/b/no_crack/000']
    assert ds.get_gt_labels().tolist() == [1, 1, 0]


def test_mmcrack_crack_no_crack_names_and_split_file(tmp_path):
    _folders(tmp_path, {'crack': 3, 'no_crack': 3})
    (tmp_path / 'split.txt').write_text(
        '# keys, with or without extension\nno_crack/002.png\n\n'
        'crack/000\ncrack/002.png\n')
    ds = _ds(tmp_path, patch_size=40, ann_file=str(tmp_path / 'split.txt'))
    assert _keys(ds) == ['no_crack/002', 'crack/000', 'crack/002']
    assert ds.get_gt_labels().tolist() == [0, 1, 1]
    (tmp_path / 'bad.txt').write_text('crack/000\nghost/1\ncrack/000\n'
                                      'crack/999\n')
    with pytest.raises(ValueError) as e:
        _ds(tmp_path, ann_file=str(tmp_path / 'bad.txt'))
    msg = str(e.value)
    assert '2 problem(s)' in msg and 'ghost/1' in msg and 'crack/999' in msg
    assert 'twice: crack/000' in msg


def test_holdout_is_a_stable_partition(tmp_path):
    _folders(tmp_path, {'crack': 30, 'no_crack': 30}, size=(8, 8))
    kw = dict(patch_size=8, holdout=0.3)
    train = set(_keys(_ds(tmp_path, subset='train', **kw)))
    val = set(_keys(_ds(tmp_path, subset='val', **kw)))
    assert not train & val and len(train | val) == 60
    assert 8 <= len(val) <= 30  # ~18 expected
    expected = {k for k in train | val
                if pf.zlib.crc32(k.encode()) / 2**32 < 0.3}
    assert val == expected
    # more files do not move the others
    _write(tmp_path / 'crack' / 'zzz.png', _img(8, 8, 99))
    val2 = set(_keys(_ds(tmp_path, subset='val', **kw)))
    assert val2 - {'crack/zzz'} == val
    with pytest.raises(ValueError, match='holdout'):
        _ds(tmp_path, subset='val')


# --------------------------------------------------- resize and cropping
def test_resize_mode_matches_cv2_resize(tmp_path):
    imgs = {
        'Positive/a': _img(227, 227, 1),  # Özgenel: shrink, INTER_AREA
        'Negative/b': _img(40, 40, 2),  # enlarge: INTER_LINEAR
        'Negative/c': _img(60, 90, 3),  # not square: fit + reflect pad
    }
    for key, arr in imgs.items():
        _write(tmp_path / (key + '.png'), arr)
    ds = _ds(tmp_path, patch_size=128)
    out = {k: ds[i]['img'] for i, k in enumerate(_keys(ds))}
    np.testing.assert_array_equal(
        out['Positive/a'], cv2.resize(imgs['Positive/a'], (128, 128),
                                      interpolation=cv2.INTER_AREA))
    np.testing.assert_array_equal(
        out['Negative/b'], cv2.resize(imgs['Negative/b'], (128, 128),
                                      interpolation=cv2.INTER_LINEAR))
    small = cv2.resize(imgs['Negative/c'], (128, 85),
                       interpolation=cv2.INTER_LINEAR)  # 60x90 -> 85x128
    np.testing.assert_array_equal(
        out['Negative/c'], np.pad(small, ((0, 43), (0, 0), (0, 0)),
                                  mode='reflect'))
    assert ds.get_data_info(0)['patch_mode'] == 'resize'
    # shrinking a non-square file: INTER_AREA, then padding
    arr = _img(300, 200, 4)
    np.testing.assert_array_equal(
        fit_to_square(arr, 120),
        np.pad(cv2.resize(arr, (80, 120), interpolation=cv2.INTER_AREA),
               ((0, 0), (0, 40), (0, 0)), mode='reflect'))


def test_random_crop_center_crop_and_padding(tmp_path):
    big, small = _img(227, 227, 5), _img(50, 70, 6)
    _write(tmp_path / 'Positive' / 'big.png', big)
    _write(tmp_path / 'Negative' / 'small.png', small)
    ds = _ds(tmp_path, patch_size=128, patch_mode='random_crop')
    assert _keys(ds) == ['Negative/small', 'Positive/big']
    np.random.seed(0)
    origins = set()
    for _ in range(20):
        info = ds.get_data_info(1)
        y, x = info['patch_y'], info['patch_x']
        assert info['patch_mode'] == 'crop'
        assert 0 <= y <= 99 and 0 <= x <= 99
        origins.add((y, x))
    assert len(origins) > 10
    np.random.seed(3)
    info = ds.get_data_info(1)
    np.random.seed(3)
    out = ds[1]['img']
    y, x = info['patch_y'], info['patch_x']
    np.testing.assert_array_equal(out, big[y:y + 128, x:x + 128])
    # smaller than the patch: reflect-padded at bottom/right, origin 0
    padded = np.pad(small, ((0, 78), (0, 58), (0, 0)), mode='reflect')
    np.testing.assert_array_equal(ds[0]['img'], padded)
    # test_mode and 'center_crop': the centre square, (227 - 128) // 2
    for kw in (dict(patch_mode='random_crop', test_mode=True),
               dict(patch_mode='center_crop')):
        ds = _ds(tmp_path, patch_size=128, **kw)
        assert {(ds.get_data_info(1)['patch_y'],
                 ds.get_data_info(1)['patch_x']) for _ in range(5)} == \
            {(49, 49)}
        np.testing.assert_array_equal(ds[1]['img'], big[49:177, 49:177])


def test_dihedral_on_folder_samples(tmp_path):
    arr = _img(227, 227, 7)
    _write(tmp_path / 'crack' / 'a.png', arr)
    _write(tmp_path / 'no_crack' / 'b.png', _img(64, 64, 8))
    resized = cv2.resize(arr, (64, 64), interpolation=cv2.INTER_AREA)
    ds = _ds(tmp_path, patch_size=64, dihedral_aug=True)
    assert len(ds) == 16
    assert ds.get_gt_labels().tolist() == [1] * 8 + [0] * 8
    for t in range(8):
        np.testing.assert_array_equal(ds[t]['img'], dihedral(resized, t))
    ds = _ds(tmp_path, patch_size=64, dihedral_aug='random')
    np.random.seed(0)
    seen = set()
    for _ in range(40):
        out = ds[0]
        np.testing.assert_array_equal(out['img'],
                                      dihedral(resized, out['dihedral']))
        seen.add(out['dihedral'])
    assert seen == set(range(8))


# -------------------------------------------------------------- bad input
def test_every_folder_problem_in_one_error(tmp_path):
    _folders(tmp_path, {'Positive': 1, 'Negative': 1, 'crack/sub': 1})
    os.makedirs(tmp_path / 'no_crack')  # empty
    (tmp_path / 'Negative' / 'broken.png').write_bytes(b'not an image')
    (tmp_path / 'Negative' / 'empty.jpg').write_bytes(b'')
    _write(tmp_path / 'Positive' / '000.jpg', _img(8, 8, 1))  # same stem
    with pytest.raises(ValueError) as e:
        _ds(tmp_path)
    msg = str(e.value)
    assert '4 problem(s)' in msg, msg
    assert "class 'crack' folder" in msg and 'crack holds no images' in msg
    # the sub-folder it did not search, and how to name it
    assert 'sub-folders: sub;' in msg and "pattern 'crack/*'" in msg
    assert "class 'no_crack' folder" in msg
    assert "two files share the stem '000'" in msg
    assert '2 unreadable image(s)' in msg
    assert 'broken.png (not an image format' in msg
    assert 'empty.jpg (file is empty' in msg


def test_unknown_overlapping_and_unmatched_classes(tmp_path):
    _folders(tmp_path, {'Positive': 1, 'Negative': 1, 'both': 1})
    with pytest.raises(ValueError) as e:
        _ds(tmp_path, class_dirs=dict(crack=['Positive', 'both'],
                                      no_crack=['Negative', 'b*'],
                                      cracks=['x']))
    msg = str(e.value)
    assert "unknown ['cracks']" in msg
    assert 'matched by both classes' in msg and 'both' in msg
    with pytest.raises(ValueError) as e:
        _ds(tmp_path, class_dirs=dict(crack=['Positiv'],
                                      no_crack='Negative'))
    msg = str(e.value)
    assert "class 'crack': no folder" in msg and "['Positiv']" in msg
    assert 'Negative, Positive, both' in msg  # what is there
    with pytest.raises(FileNotFoundError, match='class-folder root'):
        _ds(tmp_path / 'nowhere')


def test_one_class_missing_is_an_error_and_rare_class_a_warning(
        tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(pf, 'print_log',
                        lambda msg, **kw: calls.append((msg, kw)))
    _folders(tmp_path, {'crack': 1, 'no_crack': 12}, size=(8, 8))
    _ds(tmp_path, patch_size=8)  # 1 / 13 = 7.7 %
    assert len(calls) == 1
    msg, kw = calls[0]
    assert kw['level'] == 30 and "class 'crack' is only 7.7 %" in msg
    calls.clear()
    os.remove(tmp_path / 'no_crack' / '011.png')
    os.remove(tmp_path / 'no_crack' / '010.png')
    os.remove(tmp_path / 'no_crack' / '009.png')  # 1 / 10 = 10 %: fine
    _ds(tmp_path, patch_size=8)
    assert calls == []
    (tmp_path / 'split.txt').write_text('no_crack/000\n')
    with pytest.raises(ValueError, match="no 'crack' samples"):
        _ds(tmp_path, patch_size=8, ann_file=str(tmp_path / 'split.txt'))


def test_option_checks(tmp_path):
    with pytest.raises(ValueError, match='patch_mode'):
        _ds(tmp_path, patch_mode='stretch')
    with pytest.raises(ValueError, match='source must be one of'):
        CrackPatchDataset(source='csv')
    with pytest.raises(ValueError, match='needs ann_file'):
        CrackPatchDataset(source='image_list', data_prefix=str(tmp_path))
    with pytest.raises(ValueError, match='crack_image_mode'):
        CrackPatchDataset(source='image_list', ann_file='x',
                          crack_image_mode='mil')


# ------------------------------------------------------ image-level lists
def _image_list(root, rows, sizes, text=None):
    """rows: [(stem, label text)]; sizes: {stem: (h, w)}."""
    imgs = {s: _write(root / 'images' / f'{s}.png', _img(*hw, i))
            for i, (s, hw) in enumerate(sizes.items())}
    (root / 'labels.txt').write_text(
        text if text is not None else
        'stem,label\n' + ''.join(f'{s},{lab}\n' for s, lab in rows))
    return imgs


def _list_ds(root, **kwargs):
    kwargs.setdefault('pipeline', [dict(type='LoadCrackPatch')])
    return CrackPatchDataset(source='image_list', data_root=str(root),
                             data_prefix=dict(img_path='images'),
                             ann_file='labels.txt', **kwargs)


def test_image_list_labels_windows_and_whole_images(tmp_path):
    sizes = {'a': (96, 160), 'b': (64, 64), 'c': (150, 100)}
    paths = _image_list(tmp_path, [('a', 'no_crack'), ('b', 'CRACK'),
                                   ('c.png', '0')], sizes)
    ds = _list_ds(tmp_path, patch_size=64, stride=32)
    # a: 96x160 -> padded 128x192 -> 3 x 5 windows + 1 whole image;
    # b: one whole image; c: 150x100 -> 192x128 -> 5 x 3 windows + 1
    assert ds.img_paths == [paths['a'], paths['b'], paths['c']]
    info = [ds.get_data_info(i) for i in range(len(ds))]
    assert len(ds) == 16 + 1 + 16
    assert [d['gt_label'] for d in info] == [0] * 16 + [1] + [0] * 16
    modes = [d['patch_mode'] for d in info]
    assert modes == ['window'] * 15 + ['resize'] * 2 + ['window'] * 15 + \
        ['resize']
    assert [(d['patch_y'], d['patch_x']) for d in info[:15]] == \
        [(y, x) for y in (0, 32, 64) for x in (0, 32, 64, 96, 128)]
    a = cv2.imread(paths['a'])
    padded = np.pad(a, ((0, 32), (0, 32), (0, 0)), mode='reflect')
    for i in (0, 7, 14):
        y, x = info[i]['patch_y'], info[i]['patch_x']
        np.testing.assert_array_equal(ds[i]['img'],
                                      padded[y:y + 64, x:x + 64])
    np.testing.assert_array_equal(
        ds[15]['img'], np.pad(cv2.resize(a, (64, 38),
                                         interpolation=cv2.INTER_AREA),
                              ((0, 26), (0, 0), (0, 0)), mode='reflect'))
    np.testing.assert_array_equal(ds[16]['img'], cv2.imread(paths['b']))
    ds = _list_ds(tmp_path, patch_size=64, stride=32,
                  image_level_negatives=False)
    assert ds.get_gt_labels().tolist() == [0] * 15 + [1] + [0] * 15
    assert ds.class_counts().tolist() == [30, 1]


def test_image_list_bad_input_in_one_error(tmp_path):
    sizes = {'a': (32, 32), 'b': (32, 32), 'c': (32, 32)}
    text = ('stem,label\na,crack\nb,maybe\nc\n\n# comment\nd,1\n'
            'a,0\n,1\nc,1,extra\nghost,no_crack\nb,0\n')
    _image_list(tmp_path, [], sizes, text=text)
    (tmp_path / 'images' / 'b.png').write_bytes(b'garbage')
    with pytest.raises(ValueError) as e:
        _list_ds(tmp_path)
    msg = str(e.value)
    assert '3 problem(s)' in msg, msg
    for part in ("line 3: 'b,maybe'", "line 4: 'c'", "line 8: stem 'a' "
                 'already on line 2', "line 9: ',1'",
                 "line 10: 'c,1,extra'", '5 malformed line(s)'):
        assert part in msg, part
    assert "2 listed stem(s) have no image" in msg and 'd, ghost' in msg
    assert '1 unreadable image(s)' in msg and 'b.png' in msg
    with pytest.raises(FileNotFoundError, match='image list not found'):
        CrackPatchDataset(source='image_list', data_root=str(tmp_path),
                          data_prefix='images', ann_file='nope.txt')


def test_image_list_all_crack_is_refused(tmp_path):
    _image_list(tmp_path, [('a', 'crack'), ('b', '1')],
                {'a': (32, 32), 'b': (32, 32)})
    with pytest.raises(ValueError, match="no 'no_crack' samples"):
        _list_ds(tmp_path, patch_size=32)


# ----------------------------------------------------------- no mask read
def _undecodable_masks(root, stems):
    for stem in stems:
        path = root / f'{stem}.png'
        os.makedirs(root, exist_ok=True)
        path.write_bytes(b'a mask that must never be read')


def test_folder_and_list_sources_open_no_mask(tmp_path):
    """Masks lie beside the images under the same stems (undecodable, so a
    read by OpenCV would fail too); building and iterating never touches
    a path under masks/."""
    root = tmp_path / 'folders'
    _folders(root / 'images', {'Positive': 2, 'Negative': 2})
    for cls in ('Positive', 'Negative'):
        _undecodable_masks(root / 'masks' / cls, ['000', '001'])
    lst = tmp_path / 'list' / 'train'
    _image_list(lst, [('a', 'crack'), ('b', 'no_crack')],
                {'a': (64, 64), 'b': (64, 96)})
    _undecodable_masks(lst / 'masks', ['a', 'b'])
    with record_file_access() as log:
        for ds in (
                CrackPatchDataset(source='folders', data_root=str(root),
                                  data_prefix=dict(img_path='images'),
                                  patch_size=32, dihedral_aug=True,
                                  pipeline=[dict(type='LoadCrackPatch')]),
                _list_ds(lst, patch_size=32, stride=16,
                         pipeline=[dict(type='LoadCrackPatch')])):
            for i in range(len(ds)):
                assert ds[i]['img'].shape == (32, 32, 3)
    assert log.under('images'), 'the log saw no access at all'
    assert log.under('masks') == []


# ----------------------------------------------------------------- configs
def _build(cfg_path, loader, data_root):
    from mmpretrain.registry import DATASETS
    cfg = Config.fromfile(osp.join(REPO, cfg_path))
    dataset = cfg[loader].dataset
    dataset.data_root = str(data_root)
    return DATASETS.build(dataset)


def test_configs_build_the_weak_label_datasets(tmp_path):
    from mmcrack.datasets.converters.classification import (
        convert_masks_to_classification,
    )
    root = tmp_path / 'masks_layout'
    for split in ('train', 'val', 'test'):
        for k in range(2):
            mask = np.zeros((96, 128), np.uint8)
            if k == 0:
                mask[10:80, 60] = 255
            _write(root / 'images' / split / f'{split}{k}.png',
                   _img(96, 128, k))
            _write(root / 'masks' / split / f'{split}{k}.png', mask)
    out = tmp_path / 'cls'
    convert_masks_to_classification(str(root), str(out), patch_size=64,
                                    stride=32, image_level=True)
    ds = _build('configs/classifier/resnet18-w32_1xb16-4e_crack-folders.py',
                'train_dataloader', out)
    assert ds.source == 'folders' and ds.dihedral_aug is True
    sample = ds[0]  # the whole training pipeline
    assert tuple(sample['inputs'].shape) == (3, 128, 128)
    assert _build('configs/classifier/resnet18-w32_1xb16-4e_crack-folders'
                  '.py', 'val_dataloader', out).test_mode
    ds = _build('configs/classifier/resnet18-w32_1xb16-4e_crack-image-'
                'list.py', 'test_dataloader', out)
    assert ds.source == 'image_list' and len(ds) > 2
    assert tuple(ds[0]['inputs'].shape) == (3, 128, 128)
    # Özgenel's layout: Positive / Negative of 227 px, 10 % hold-out
    oz = tmp_path / 'oz'
    _folders(oz, {'Positive': 10, 'Negative': 10}, size=(227, 227))
    cfg = 'configs/classifier/efficientnet-lite0_1xb16-4e_concrete-crack-' \
        '227.py'
    train = _build(cfg, 'train_dataloader', oz)
    val = _build(cfg, 'val_dataloader', oz)
    assert len(train) // 8 + len(val) == 20 and len(val) >= 1
    assert tuple(val[0]['inputs'].shape) == (3, 227, 227)
