"""masks_to_classification and make_synthetic --classification: the
converted patches equal what CrackPatchDataset(source='segmentation')
indexes, pixel for pixel and label for label."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from converter_helpers import (
    crack,
    image,
    listing,
    read_bytes,
    summary_of,
    tool,
    write,
)
from mmengine.registry import DefaultScope

import mmcrack  # noqa: F401
from mmcrack.datasets import CrackPatchDataset


@pytest.fixture(autouse=True)
def mmpretrain_scope():
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield


@pytest.fixture
def mask_layout(tmp_path):
    """train: a (70x100, crack + a bottom-right corner pixel), b (40x40,
    no crack); test: c (64x64 JPEG, one crack pixel)."""
    root = tmp_path / 'root'
    a = crack(70, 100, range(5, 40), [20])
    a[69, 99] = 255  # reflected into the padding
    write(root / 'images/train/a.png', image(70, 100, 1))
    write(root / 'masks/train/a.png', a)
    write(root / 'images/train/b.png', image(40, 40, 2))
    write(root / 'masks/train/b.png', np.zeros((40, 40), np.uint8))
    write(root / 'images/test/c.jpg', image(64, 64, 3))
    write(root / 'masks/test/c.png', crack(64, 64, [50], [50]))
    return root


def _convert(root, out, *extra):
    return tool('masks_to_classification').main(
        [str(root), '-o', str(out), '--patch-size', '32', '--stride', '16',
         *extra])


def test_patches_equal_the_segmentation_index(tmp_path, mask_layout):
    out = tmp_path / 'out'
    summary = _convert(mask_layout, out)
    for split in ('train', 'test'):
        seg = CrackPatchDataset(
            data_root=str(mask_layout), patch_size=32, stride=16,
            data_prefix=dict(img_path=f'images/{split}',
                             seg_map_path=f'masks/{split}'),
            pipeline=[dict(type='LoadCrackPatch')])
        folders = CrackPatchDataset(
            source='folders', patch_size=32, data_prefix=str(out / split),
            pipeline=[dict(type='LoadCrackPatch')])
        assert len(seg) == len(folders)
        expected = {}
        for i in range(len(seg)):
            info = seg.get_data_info(i)
            stem = osp.splitext(osp.basename(info['img_path']))[0]
            name = f"{stem}_y{info['patch_y']:05d}_x{info['patch_x']:05d}"
            expected[name] = (info['gt_label'], seg[i]['img'])
        got = {}
        for i in range(len(folders)):
            stem = osp.splitext(osp.basename(folders.img_paths[i]))[0]
            got[stem] = (folders.get_data_info(i)['gt_label'],
                         folders[i]['img'])
        assert sorted(got) == sorted(expected)
        for name, (label, pixels) in expected.items():
            assert got[name][0] == label, name
            np.testing.assert_array_equal(got[name][1], pixels)
    # a 70x100 image -> padded 96x128 -> 5 x 7 windows; b: 40x40 -> 64x64
    # -> 3 x 3 windows; c: 64x64 -> 3 x 3
    assert summary['patches'] == {
        'train': dict(no_crack=35 + 9 - 10, crack=10),
        'test': dict(no_crack=8, crack=1)}
    assert sorted(os.listdir(out)) == ['conversion.json', 'test', 'train']
    assert summary_of(out)['options'] == dict(
        patch_size=32, stride=16, splits=['test', 'train'],
        image_level=False, tile=None, mask_rule='ge128',
        crack_patch_min_pixels=1)


def test_crack_windows_by_hand(tmp_path, mask_layout):
    """a (padded 96x128: origins y 0..64, x 0..96 at stride 16): crack
    rows 5..39 of column 20 -> y in {0, 16, 32}, x in {0, 16}; the corner
    pixel (69, 99) is the mirror axis of the padding (not repeated) ->
    y in {48, 64}, x in {80, 96}. b has no crack."""
    out = tmp_path / 'out'
    _convert(mask_layout, out)
    names = {osp.splitext(f)[0] for f in os.listdir(out / 'train/crack')}
    expected = {f'a_y{y:05d}_x{x:05d}' for y in (0, 16, 32)
                for x in (0, 16)}
    expected |= {f'a_y{y:05d}_x{x:05d}' for y in (48, 64) for x in (80, 96)}
    assert names == expected
    assert len(os.listdir(out / 'train/no_crack')) == 35 + 9 - 10
    # c: one crack pixel at (50, 50) -> only the window at (32, 32)
    assert os.listdir(out / 'test/crack') == ['c_y00032_x00032.png']


def test_image_level_list_and_tiles(tmp_path, mask_layout):
    out = tmp_path / 'out'
    summary = _convert(mask_layout, out, '--image-level')
    assert (out / 'train/labels.txt').read_text() == \
        'stem,label\na,crack\nb,no_crack\n'
    assert (out / 'test/labels.txt').read_text() == 'stem,label\nc,crack\n'
    assert read_bytes(out / 'test/images/c.jpg') == \
        read_bytes(mask_layout / 'images/test/c.jpg')
    assert summary['image_level'] == {
        'train': dict(no_crack=1, crack=1), 'test': dict(no_crack=0,
                                                         crack=1)}
    # tiles of 48 px: a 70x100 -> padded 96x144 -> 2 x 3 tiles
    out = tmp_path / 'tiles'
    summary = _convert(mask_layout, out, '--tile', '48', '--splits',
                       'train')
    rows = (out / 'train/labels.txt').read_text().split('\n')[1:-1]
    labels = dict(r.split(',') for r in rows)
    assert labels == {
        'a_y00000_x00000': 'crack', 'a_y00000_x00048': 'no_crack',
        'a_y00000_x00096': 'no_crack', 'a_y00048_x00000': 'no_crack',
        'a_y00048_x00048': 'no_crack', 'a_y00048_x00096': 'crack',
        'b_y00000_x00000': 'no_crack'}
    a = cv2.imread(str(mask_layout / 'images/train/a.png'))
    padded = np.pad(a, ((0, 26), (0, 44), (0, 0)), mode='reflect')
    np.testing.assert_array_equal(
        cv2.imread(str(out / 'train/images/a_y00048_x00096.png')),
        padded[48:96, 96:144])
    assert summary['image_level'] == {'train': dict(no_crack=5, crack=2)}
    # the list builds an image-list dataset
    ds = CrackPatchDataset(source='image_list', data_root=str(out),
                           data_prefix='train/images',
                           ann_file='train/labels.txt', patch_size=32,
                           stride=16)
    # 2 crack tiles -> 2 samples; 5 no-crack tiles of 48 (padded to 64)
    # -> 3 x 3 windows + 1 whole tile each
    assert ds.class_counts().tolist() == [5 * 10, 2]


def test_force_refusal_and_clean_rerun(tmp_path, mask_layout):
    out = tmp_path / 'out'
    _convert(mask_layout, out)
    before = listing(out)
    with pytest.raises(SystemExit, match='is not empty; use --force'):
        _convert(mask_layout, out)
    assert listing(out) == before
    argv = ['--patch-size', '64', '--stride', '64']
    tool('masks_to_classification').main(
        [str(mask_layout), '-o', str(out), *argv, '--force'])
    tool('masks_to_classification').main(
        [str(mask_layout), '-o', str(tmp_path / 'fresh'), *argv])
    # exactly what a fresh conversion writes: the stride-16 patches are gone
    assert listing(out) == listing(tmp_path / 'fresh')
    old = set(before) - {'conversion.json'}
    assert summary_of(out)['removed_by_force'] == len(old - set(listing(
        out)))


def test_bad_input_all_named_nothing_written(tmp_path, mask_layout):
    write(mask_layout / 'images/train/lonely.png', image(8, 8, 0))
    with pytest.raises(SystemExit) as e:
        _convert(mask_layout, tmp_path / 'out', '--splits', 'train', 'val')
    msg = str(e.value)
    assert '2 problem(s)' in msg and 'lonely' in msg
    assert 'split val: folder not found' in msg
    os.remove(mask_layout / 'images/train/lonely.png')
    write(mask_layout / 'masks/train/b.png', np.eye(40, dtype=np.uint8))
    (mask_layout / 'images/test/c.jpg').write_bytes(b'')
    with pytest.raises(SystemExit) as e:
        _convert(mask_layout, tmp_path / 'out')
    msg = str(e.value)
    assert '2 bad pair(s) of 3' in msg
    assert "b.png: mask holds only 0/1 values" in msg
    assert 'c.jpg: file is empty' in msg
    assert not osp.exists(tmp_path / 'out') or \
        listing(tmp_path / 'out') == []
    # --mask-rule nonzero reads the 0/1 mask
    (mask_layout / 'images/test/c.jpg').unlink()
    (mask_layout / 'masks/test/c.png').unlink()
    summary = _convert(mask_layout, tmp_path / 'out', '--mask-rule',
                       'nonzero', '--splits', 'train')
    assert summary['patches']['train']['crack'] > 10  # b's diagonal


def test_make_synthetic_classification(tmp_path):
    from mmcrack.datasets.converters.classification import (
        write_synthetic_classification,
    )
    from mmcrack.datasets.synthetic import (
        SyntheticCrackConfig,
        make_synthetic_sample,
    )
    out = tmp_path / 'syn'
    argv = [str(out), '--classification', '--train', '5', '--val', '2',
            '--test', '3', '--size', '64', '96', '--patch-size', '32',
            '--stride', '32', '--seed', '4']
    summary = tool('make_synthetic').main(argv)
    assert sorted(os.listdir(out)) == ['classification', 'images', 'masks']
    assert sorted(os.listdir(out / 'masks')) == ['test']  # scoring only
    assert sorted(os.listdir(out / 'images')) == ['test', 'train', 'val']
    assert sorted(os.listdir(out / 'classification/train')) == [
        'crack', 'images', 'labels.txt', 'no_crack']
    assert not [f for f in os.listdir(out) if f.startswith('.')]
    import dataclasses
    import zlib
    cfg = dataclasses.replace(SyntheticCrackConfig(), height=64, width=96)
    from mmcrack.datasets.crack_patch_dataset import window_labels
    for split, n in (('train', 5), ('val', 2), ('test', 3)):
        rows, crack_n = ['stem,label'], 0
        for i in range(n):
            img, mask = make_synthetic_sample(4, i, cfg,
                                              zlib.crc32(split.encode()))
            rows.append(f'{split}_{i:04d},'
                        f'{"crack" if mask.any() else "no_crack"}')
            crack_n += int(window_labels(mask, 32, 32)[2].sum())
            np.testing.assert_array_equal(
                cv2.imread(str(out / f'images/{split}/{split}_{i:04d}.png'))
                [:, :, ::-1], img)
            if split == 'test':
                np.testing.assert_array_equal(
                    cv2.imread(str(out / f'masks/test/test_{i:04d}.png'),
                               0), mask * 255)
        assert (out / f'classification/{split}/labels.txt').read_text() == \
            '\n'.join(rows) + '\n'
        assert summary['patches'][split] == dict(
            crack=crack_n, no_crack=n * 6 - crack_n)  # 2 x 3 windows
    assert summary['options']['seed'] == 4
    # a complete set is kept; another non-empty folder is refused
    assert write_synthetic_classification(str(out)) == summary_of(
        out / 'classification')
    (tmp_path / 'other').mkdir()
    (tmp_path / 'other' / 'x.txt').write_text('x')
    with pytest.raises(SystemExit, match='not empty.*use --force'):
        tool('make_synthetic').main([str(tmp_path / 'other'),
                                     '--classification'])
    # --force (the converters' flag; --overwrite its old name) writes there
    small = ['--classification', '--train', '1', '--val', '1', '--test', '1',
             '--size', '128', '128']
    for flag in ('--force', '--overwrite'):
        forced = tool('make_synthetic').main([str(tmp_path / 'other'),
                                              *small, flag])
        assert forced == summary_of(tmp_path / 'other' / 'classification')
