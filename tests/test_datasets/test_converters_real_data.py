"""The generic image+mask-folder converter reproduces the shared real sets.

``../shared/datasets/{DeepCrack,CFD}`` are in mmcrack's layout already;
converting each of their splits again must give the same masks pixel for
pixel and the same image bytes.
"""
import os
import os.path as osp
import time

import cv2
import numpy as np
import pytest
from conftest import SHARED_DATASETS

from mmcrack.datasets.converters import convert_folders

EXPECTED = {
    'DeepCrack': dict(train=300, test=237),
    'CFD': dict(train=64, val=7, test=46),
}


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_folder_converter_reproduces_shared_set(name, tmp_path):
    root = osp.join(SHARED_DATASETS, name)
    if not osp.isdir(osp.join(root, 'masks')):
        pytest.skip(f'{root} not available')
    splits = sorted(os.listdir(osp.join(root, 'masks')))
    pairs = [(s, osp.join(root, 'images', s), osp.join(root, 'masks', s))
             for s in splits]
    out = str(tmp_path / name)
    start = time.time()
    summary = convert_folders(pairs, out)
    seconds = time.time() - start
    counts = {s: c['images'] for s, c in summary['splits'].items()}
    assert counts == EXPECTED[name]
    assert summary['images'] == dict(
        copied_unchanged=sum(EXPECTED[name].values()), reencoded_png=0)
    assert summary['total']['stats']['non_binary_pixels'] == 0
    for split in splits:
        names = sorted(os.listdir(osp.join(root, 'masks', split)))
        assert sorted(os.listdir(osp.join(out, 'masks', split))) == names
        for mask_name in names:
            src = cv2.imread(osp.join(root, 'masks', split, mask_name),
                             cv2.IMREAD_UNCHANGED)
            got = cv2.imread(osp.join(out, 'masks', split, mask_name),
                             cv2.IMREAD_UNCHANGED)
            assert got.dtype == np.uint8 and got.ndim == 2
            np.testing.assert_array_equal(got, src, err_msg=mask_name)
        for img_name in os.listdir(osp.join(root, 'images', split)):
            with open(osp.join(root, 'images', split, img_name), 'rb') as f:
                src_bytes = f.read()
            with open(osp.join(out, 'images', split, img_name), 'rb') as f:
                assert f.read() == src_bytes, img_name
    shares = ', '.join(f"{s} {c['images']} ({100 * c['crack_share']:.2f}%)"
                       for s, c in summary['splits'].items())
    print(f'\n{name}: {shares}; total crack share '
          f"{100 * summary['total']['crack_share']:.3f}%; {seconds:.1f} s")


@pytest.mark.slow
def test_deepcrack_converter_on_release_layout(tmp_path):
    """The shared DeepCrack set linked into its source's folder names
    (train/image, train/label, test/test_img, test/test_lab)."""
    root = osp.join(SHARED_DATASETS, 'DeepCrack')
    if not osp.isdir(osp.join(root, 'masks')):
        pytest.skip(f'{root} not available')
    src = tmp_path / 'release'
    for split, img, lab in [('train', 'image', 'label'),
                            ('test', 'test_img', 'test_lab')]:
        os.makedirs(src / split)
        os.symlink(osp.join(root, 'images', split), src / split / img)
        os.symlink(osp.join(root, 'masks', split), src / split / lab)
    from mmcrack.datasets.converters import convert_deepcrack
    summary = convert_deepcrack(str(src), str(tmp_path / 'out'))
    assert {s: c['images'] for s, c in summary['splits'].items()} == \
        EXPECTED['DeepCrack']
    assert summary['splits']['test']['sizes'] == {'384x544': 47,
                                                  '544x384': 190}
    shared = [f'11289-{k}' for k in range(1, 11)]
    assert (f'10 stem(s) exist in both splits (different crops; kept in '
            f'their split folders): {", ".join(sorted(shared))}'
            ) in summary['notes']
    for split in EXPECTED['DeepCrack']:
        for name in os.listdir(osp.join(root, 'masks', split)):
            np.testing.assert_array_equal(
                cv2.imread(osp.join(tmp_path, 'out', 'masks', split, name),
                           cv2.IMREAD_UNCHANGED),
                cv2.imread(osp.join(root, 'masks', split, name),
                           cv2.IMREAD_UNCHANGED), err_msg=name)


@pytest.mark.slow
def test_cfd_converter_reproduces_shared_split(tmp_path):
    """A CFD release rebuilt from the shared set (.mat files in the
    release's cell/struct layout, 042 and the 37 extras without ground
    truth) converts back to the shared split folders exactly."""
    import scipy.io
    root = osp.join(SHARED_DATASETS, 'CFD')
    if not osp.isdir(osp.join(root, 'masks')):
        pytest.skip(f'{root} not available')
    src = tmp_path / 'CrackForest-dataset'
    os.makedirs(src / 'image')
    os.makedirs(src / 'groundTruth')
    pairs = [(osp.join(root, 'excluded', '042.jpg'),
              osp.join(root, 'excluded', '042.png'))]
    for split in EXPECTED['CFD']:
        for name in os.listdir(osp.join(root, 'images', split)):
            pairs.append((osp.join(root, 'images', split, name),
                          osp.join(root, 'masks', split,
                                   name.replace('.jpg', '.png'))))
    for img, mask in pairs:
        stem = osp.basename(img)[:-4]
        os.symlink(img, src / 'image' / f'{stem}.jpg')
        seg = 1 + (cv2.imread(mask, cv2.IMREAD_GRAYSCALE) > 127)
        cell = np.empty((1, 1), dtype=object)
        cell[0, 0] = {'Segmentation': seg.astype(np.uint8)}
        scipy.io.savemat(str(src / 'groundTruth' / f'{stem}.mat'),
                         {'groundTruth': cell})
    extras = [*range(201, 209), *range(301, 330)]
    for n in extras:
        os.symlink(pairs[0][0], src / 'image' / f'{n}.jpg')
    from mmcrack.datasets.converters import convert_cfd
    out = tmp_path / 'out'
    summary = convert_cfd(str(src), str(out))
    assert {s: c['images'] for s, c in summary['splits'].items()} == \
        EXPECTED['CFD']
    assert [s['item'] for s in summary['skipped']] == \
        ['image/042.jpg'] + [f'image/{n}.jpg' for n in extras]
    for split in EXPECTED['CFD']:
        names = sorted(os.listdir(osp.join(root, 'masks', split)))
        assert sorted(os.listdir(out / 'masks' / split)) == names
        for name in names:
            np.testing.assert_array_equal(
                cv2.imread(str(out / 'masks' / split / name),
                           cv2.IMREAD_UNCHANGED),
                cv2.imread(osp.join(root, 'masks', split, name),
                           cv2.IMREAD_UNCHANGED), err_msg=name)
