"""Dataset converters on small synthetic files in each official format
(CFD .mat, DeepCrack's two layouts, CRACK500 1-bit PNG, UAV75 RGBA).

Every converted mask is compared with the expected 0/255 mask exactly and
every image with its source bytes.
"""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import scipy.io
from conftest import REPO, run_tool
from converter_helpers import (
    crack,
    image,
    listing,
    read_bytes,
    read_png,
    summary_of,
    tool,
    write,
)
from PIL import Image

from mmcrack.datasets.converters import ConversionError
from mmcrack.datasets.converters.cfd import cfd_split, load_segmentation


# --------------------------------------------------------------- CFD (.mat)
def cfd_label_map(h, w, seed):
    """Region labels 1..4 like CFD's Segmentation."""
    seg = np.ones((h, w), np.uint8)
    seg[2, :] = 2  # crack
    seg[3:5, 1:4] = 3  # background enclosed by crack loops
    seg[:, 6 + seed % 6] = 4  # extra thin crack segment
    return seg


def save_cfd_mat(path, seg, nesting='cell'):
    os.makedirs(osp.dirname(path), exist_ok=True)
    struct = {'Segmentation': seg, 'Boundaries': (seg == 2).astype(np.uint8)}
    if nesting == 'cell':  # groundTruth{1}.Segmentation, as released
        cell = np.empty((1, 1), dtype=object)
        cell[0, 0] = struct
        value = cell
    elif nesting == 'two':  # two annotations: the first counts
        cell = np.empty((1, 2), dtype=object)
        cell[0, 0] = struct
        cell[0, 1] = {'Segmentation': np.ones_like(seg)}
        value = cell
    else:  # a bare struct
        value = struct
    scipy.io.savemat(path, {'groundTruth': value})


@pytest.fixture
def cfd_release(tmp_path):
    """image/ 001 004 042 073 201 (+ image.rar); groundTruth/ for all but
    201; labels 1-4; sizes 12x8 (W x H)."""
    src = tmp_path / 'CrackForest-dataset'
    expected = {}
    for k, stem in enumerate(['001', '004', '042', '073', '201']):
        write(src / 'image' / f'{stem}.jpg', image(8, 12, k))
        if stem == '201':
            continue
        seg = cfd_label_map(8, 12, k)
        if stem == '073':
            seg = seg.astype(np.float64)  # MATLAB's default class
        save_cfd_mat(str(src / 'groundTruth' / f'{stem}.mat'), seg,
                     'two' if stem == '004' else 'cell')
        expected[stem] = np.isin(seg, (2, 4)).astype(np.uint8) * 255
    (src / 'image' / 'image.rar').write_bytes(b'not an image')
    return src, expected


def test_cfd_release(cfd_release, tmp_path):
    src, expected = cfd_release
    out = tmp_path / 'out'
    summary = tool('cfd').main([str(src), '-o', str(out)])
    assert listing(out) == [
        'conversion.json', 'images/test/073.jpg', 'images/train/001.jpg',
        'images/val/004.jpg', 'masks/test/073.png', 'masks/train/001.png',
        'masks/val/004.png'
    ]
    for split, stem in [('train', '001'), ('val', '004'), ('test', '073')]:
        np.testing.assert_array_equal(
            read_png(out / 'masks' / split / f'{stem}.png'), expected[stem])
        assert read_bytes(out / 'images' / split / f'{stem}.jpg') == \
            read_bytes(src / 'image' / f'{stem}.jpg')
    assert summary_of(out)['skipped'] == [
        {'item': 'image/042.jpg',
         'reason': 'wrong ground truth (the annotation does not match the '
                   'image); --keep-042 converts it'},
        {'item': 'image/201.jpg', 'reason': 'no ground truth (.mat)'},
    ]
    # each 12x8 map: row 2 (12 px) + column (8 px, 1 shared) = 19 crack px
    assert summary['total']['crack_pixels'] == 3 * 19
    assert summary['splits']['train']['crack_pixels'] == 19
    assert summary['total']['stats'] == dict(enclosed_background_pixels=18,
                                             extra_crack_pixels=24)
    assert summary['total']['crack_share'] == round(57 / 288, 6)
    assert summary['total']['sizes'] == {'12x8': 3}


def test_cfd_keep_042_and_single_split(cfd_release, tmp_path):
    src, expected = cfd_release
    out = tmp_path / 'out'
    summary = tool('cfd').main([str(src), '-o', str(out), '--keep-042'])
    assert summary['splits']['train']['images'] == 2
    np.testing.assert_array_equal(read_png(out / 'masks/train/042.png'),
                                  expected['042'])
    summary = tool('cfd').main(
        [str(src), '-o', str(tmp_path / 'one'), '--single-split', 'all'])
    assert list(summary['splits']) == ['all']
    assert summary['splits']['all']['images'] == 3


def test_cfd_split_rule():
    assert [cfd_split(s) for s in ('001', '004', '042', '068', '072', '073',
                                   '118', '119')] == [
        'train', 'val', 'train', 'val', 'train', 'test', 'test', 'train']


@pytest.mark.parametrize('nesting', ['cell', 'two', 'struct'])
def test_cfd_mat_nesting(tmp_path, nesting):
    seg = cfd_label_map(8, 12, 3)
    path = str(tmp_path / 'gt.mat')
    save_cfd_mat(path, seg, nesting)
    out = load_segmentation(path)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, seg)


def test_cfd_bad_labels_and_orphans(cfd_release, tmp_path):
    src, _ = cfd_release
    seg = cfd_label_map(8, 12, 0)
    seg[0, 0] = 5
    save_cfd_mat(str(src / 'groundTruth' / '001.mat'), seg)
    scipy.io.savemat(str(src / 'groundTruth' / '073.mat'), {'x': seg})
    with pytest.raises(ConversionError) as e:
        tool('cfd').convert_cfd(str(src), str(tmp_path / 'out'))
    msg = str(e.value)
    assert '2 bad pair(s) of 3' in msg and 'nothing was written' in msg
    assert f"{src / 'groundTruth' / '001.mat'}: Segmentation holds labels " \
        '5;' in msg
    assert f"{src / 'groundTruth' / '073.mat'}: no groundTruth{{1}}." \
        'Segmentation field (variables: x)' in msg
    assert not osp.exists(tmp_path / 'out' / 'images')
    save_cfd_mat(str(src / 'groundTruth' / '500.mat'), seg)
    with pytest.raises(ConversionError, match=r'have no image .*: 500'):
        tool('cfd').convert_cfd(str(src), str(tmp_path / 'out'))


# ------------------------------------------------------------- DeepCrack
DEEPCRACK_LAYOUTS = [
    ('train_img', 'train_lab', 'test_img', 'test_lab'),
    ('train/image', 'train/label', 'test/test_img', 'test/test_lab'),
    ('a', 'b', 'c', 'd'),  # named with --folders
]


def write_deepcrack(src, folders):
    """train: 11289-1, 7Q3A9060-1; test: 11289-1, 11215-5 (a portrait)."""
    masks = {}
    content = [(0, '11289-1', 12, 16), (0, '7Q3A9060-1', 12, 16),
               (2, '11289-1', 12, 16), (2, '11215-5', 16, 12)]
    for k, (i, stem, h, w) in enumerate(content):
        write(src / folders[i] / f'{stem}.jpg', image(h, w, k))
        mask = crack(h, w, range(k, k + 3), range(w))
        write(src / folders[i + 1] / f'{stem}.png', mask)
        masks[('train' if i == 0 else 'test', stem)] = mask
    return masks


@pytest.mark.parametrize('layout', [0, 1, 2])
def test_deepcrack_layouts(tmp_path, layout):
    folders = DEEPCRACK_LAYOUTS[layout]
    src = tmp_path / 'DeepCrack'
    masks = write_deepcrack(src, folders)
    out = tmp_path / 'out'
    argv = [str(src), '-o', str(out)]
    if layout == 2:
        argv += ['--folders', *folders]
    summary = tool('deepcrack').main(argv)
    assert listing(out) == ['conversion.json'] + sorted(
        f'{top}/{split}/{stem}.{ext}' for split, stem in masks
        for top, ext in (('images', 'jpg'), ('masks', 'png')))
    for (split, stem), mask in masks.items():
        np.testing.assert_array_equal(
            read_png(out / 'masks' / split / f'{stem}.png'), mask)
        i = 0 if split == 'train' else 2
        assert read_bytes(out / 'images' / split / f'{stem}.jpg') == \
            read_bytes(src / folders[i] / f'{stem}.jpg')
    assert summary['splits']['test']['sizes'] == {'12x16': 1, '16x12': 1}
    assert summary['total']['crack_pixels'] == 3 * 16 * 3 + 3 * 12
    assert ('1 stem(s) exist in both splits (different crops; kept in '
            'their split folders): 11289-1') in summary['notes']


def test_deepcrack_unknown_layout(tmp_path):
    (tmp_path / 'images').mkdir()
    with pytest.raises(SystemExit, match='no known DeepCrack layout'):
        tool('deepcrack').main([str(tmp_path), '-o', str(tmp_path / 'o')])


# -------------------------------------------------------------- CRACK500
def test_crack500_one_bit_masks(tmp_path):
    src, masks = tmp_path / 'CRACK500', {}
    for k, (split, stem, h, w) in enumerate([
            ('traincrop', '20160222_081011_1_361', 9, 16),
            ('traincrop', '20160222_081011_361_1', 16, 9),
            ('testcrop', '20160307_112210_1_1', 9, 16)]):
        write(src / split / f'{stem}.jpg', image(h, w, k))
        mask = crack(h, w, range(h), [k, k + 1])
        Image.fromarray(mask > 0).save(src / split / f'{stem}.png')
        assert Image.open(src / split / f'{stem}.png').mode == '1'
        masks[(split[:-4], stem)] = mask
    out = tmp_path / 'out'
    summary = tool('crack500').main([str(src), '-o', str(out)])
    for (split, stem), mask in masks.items():
        np.testing.assert_array_equal(
            read_png(out / 'masks' / split / f'{stem}.png'), mask)
        assert read_bytes(out / 'images' / split / f'{stem}.jpg') == \
            read_bytes(src / f'{split}crop' / f'{stem}.jpg')
    assert summary['splits']['train']['sizes'] == {'16x9': 1, '9x16': 1}
    assert summary['total']['crack_pixels'] == 2 * 9 + 2 * 16 + 2 * 9
    assert 'split folder(s) not in the source: valcrop' in summary['notes']
    # an image without its mask is named
    write(src / 'valcrop' / 'lonely.jpg', image(9, 16, 5))
    with pytest.raises(SystemExit, match=r'split val: .*have no mask.*'
                       'lonely'):
        tool('crack500').main([str(src), '-o', str(tmp_path / 'o2')])


# ----------------------------------------------------------------- UAV75
def test_uav75_rgba_three_classes(tmp_path):
    src = tmp_path / 'uav75'
    grey = np.zeros((8, 8), np.uint8)
    grey[:, 5:7] = 204  # planking, by area
    grey[2, :5] = 255  # a thin crack
    rgba = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    for split in ('train', 'val', 'test'):
        write(src / f'{split}_img' / 'DSC00550.jpg', image(8, 8, 1))
        os.makedirs(src / f'{split}_lab', exist_ok=True)
        Image.fromarray(rgba, 'RGBA').save(src / f'{split}_lab' /
                                           'DSC00550.png')
    out = tmp_path / 'out'
    summary = tool('uav75').main([str(src), '-o', str(out)])
    expected_classes = np.zeros((8, 8), np.uint8)
    expected_classes[:, 5:7] = 1
    expected_classes[2, :5] = 2
    for split in ('train', 'val', 'test'):
        np.testing.assert_array_equal(
            read_png(out / 'masks' / split / 'DSC00550.png'),
            crack(8, 8, [2], range(5)))
        np.testing.assert_array_equal(
            read_png(out / 'classes' / split / 'DSC00550.png'),
            expected_classes)
    assert summary['total']['stats'] == dict(planking_pixels=3 * 16)
    assert summary['total']['crack_pixels'] == 3 * 5
    # another grey value, and a colour label, are errors naming the file
    grey[0, 0] = 128
    Image.fromarray(np.dstack([grey] * 3 + [grey * 0 + 255]), 'RGBA').save(
        src / 'val_lab' / 'DSC00550.png')
    rgba[0, 0, 0] = 10
    Image.fromarray(rgba, 'RGBA').save(src / 'test_lab' / 'DSC00550.png')
    with pytest.raises(SystemExit) as e:
        tool('uav75').main([str(src), '-o', str(tmp_path / 'o2')])
    msg = str(e.value)
    assert f"{src / 'val_lab' / 'DSC00550.png'}: label holds grey values " \
        '128;' in msg
    assert f"{src / 'test_lab' / 'DSC00550.png'}: RGBA label whose colour " \
        'channels differ' in msg


def test_cli_subprocess_report_and_refusal(cfd_release, tmp_path):
    src, _ = cfd_release
    out = tmp_path / 'out'
    proc = run_tool(['tools/dataset_converters/cfd.py', str(src), '-o',
                     str(out)])
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f'CFD: {src} -> {out} (')
    assert lines[1:6] == [
        '  split       images    crack px    share  sizes (WxH)',
        '  train            1          19  19.792%  12x8 (1)',
        '  val              1          19  19.792%  12x8 (1)',
        '  test             1          19  19.792%  12x8 (1)',
        '  total            3          57  19.792%  12x8 (3)',
    ]
    assert '  skipped 1: image/201.jpg — no ground truth (.mat)' in lines
    again = subprocess.run(
        [sys.executable, 'tools/dataset_converters/cfd.py', str(src), '-o',
         str(out)], cwd=REPO, capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=REPO))
    assert again.returncode == 1
    assert again.stderr.strip().endswith(
        f'cfd: error: output folder {out} is not empty; use --force to '
        'write into it (files of the same name are replaced, and other '
        'image and mask files in the split folders written are removed)')
