"""CAM + learned-affinity random walk + CRF labels: offsets, affinities,
random walk against a dense oracle, confident regions, targets, loss,
training, the generator and the CLI preset."""
import dataclasses
import math
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch

import mmcrack  # noqa: F401
from mmcrack.datasets.synthetic import (
    SyntheticCrackConfig,
    write_synthetic_dataset,
)
from mmcrack.pseudo_label.affinity_net import (
    IGNORE,
    PixelAffinityNet,
    load_affinity_net,
    neighbour_offsets,
    pair_affinities,
    random_walk,
    save_affinity_net,
)
from mmcrack.pseudo_label.affinity_training import (
    affinity_loss,
    affinity_targets,
    confident_regions,
    train_affinity_net,
)
from mmcrack.pseudo_label.affinity_walk import AffinityWalkLabelGenerator
from mmcrack.pseudo_label.crf_label_generator import CRFLabelGenerator
from mmcrack.pseudo_label.presets import load_preset
from mmcrack.utils.file_io import read_image

#: CRF settings that keep thin cracks (the reference ones smooth them away)
THIN_CRF = dict(gaussian_compat=1.0, bilateral_sxy=10.0, bilateral_srgb=5.0,
                bilateral_compat=5.0)


def test_offsets():
    assert sorted(neighbour_offsets(2)) == sorted(
        (dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    assert neighbour_offsets(2, half=True) == [(0, 1), (1, -1), (1, 0),
                                               (1, 1)]
    assert len(neighbour_offsets(5)) == 69  # cells with dy^2 + dx^2 < 25
    assert len(neighbour_offsets(5, half=True)) == 34
    with pytest.raises(ValueError):
        neighbour_offsets(0)


def test_pair_affinities_by_hand():
    f = torch.tensor([[[[0.0, 0.5, 2.0]], [[0.0, 1.5, 2.0]]]])  # (1,2,1,3)
    a = pair_affinities(f, 0, 1)[0, 0]
    np.testing.assert_allclose(a.numpy(), [math.exp(-1.0), math.exp(-1.0)],
                               rtol=1e-6)
    b = pair_affinities(f, 0, -2)[0, 0]  # cell (0, 2) with cell (0, 0)
    np.testing.assert_allclose(b.numpy(), [math.exp(-2.0)], rtol=1e-6)


def _dense_walk(features, maps, radius, beta, steps):
    """The random walk written out with loops and dense matrices."""
    d, h, w = features.shape
    f = features.double().numpy()
    n = h * w
    a = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            yi, xi, yj, xj = i // w, i % w, j // w, j % w
            if (yi - yj)**2 + (xi - xj)**2 < radius**2:
                a[i, j] = math.exp(
                    -np.abs(f[:, yi, xi] - f[:, yj, xj]).mean())**beta
    t = a / a.sum(axis=1, keepdims=True)
    v = maps.reshape(len(maps), -1).T.astype(np.float64)
    for _ in range(steps):
        v = t @ v
    return v.T.reshape(maps.shape)


def test_random_walk_equals_the_dense_formula():
    rng = np.random.default_rng(0)
    features = torch.from_numpy(rng.normal(size=(3, 5, 6)).astype(
        np.float32))
    maps = rng.uniform(size=(2, 5, 6)).astype(np.float32)
    out = random_walk(features, maps, radius=3, beta=2.0, steps=4)
    np.testing.assert_allclose(out, _dense_walk(features, maps, 3, 2.0, 4),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(
        random_walk(features, maps, 3, 2.0, 0), maps)


def test_random_walk_stays_inside_a_region():
    """Cells whose features differ by 1000 do not exchange mass; a region
    with equal features ends constant."""
    features = torch.zeros(1, 4, 8)
    features[:, :, 4:] = 1000.0
    maps = np.zeros((1, 4, 8), np.float32)
    maps[0, 1, 1] = 1.0
    out = random_walk(features, maps, radius=3, beta=1.0, steps=200)[0]
    assert (out[:, 4:] == 0).all()
    np.testing.assert_allclose(out[:, :4], out[0, 0], rtol=1e-4)
    assert out[0, 0] > 0


def test_confident_regions_without_pairwise_terms(classifier):
    """With no pairwise term and no iteration the CRF label is p > 0.5:
    crack where cam > (1 - cam) ** 0.25 (cam > 0.7245), background where
    cam <= (1 - cam) ** 4 (cam <= 0.2755)."""
    gen = CRFLabelGenerator(*classifier, crf=dict(
        gaussian_compat=0.0, bilateral_compat=0.0, iterations=0))
    cam = np.linspace(0, 1, 101, dtype=np.float32)[None, :].repeat(3, 0)
    img = np.full((3, 101, 3), 128, np.uint8)
    regions = confident_regions(gen, cam, img, fg_alpha=0.25, bg_alpha=4.0)
    row = regions[0]
    assert set(np.unique(row)) == {0, 1, IGNORE}
    assert (row[cam[0] > 0.73] == 1).all() and (row[cam[0] < 0.72] != 1).all()
    assert (row[cam[0] < 0.27] == 0).all() and (row[cam[0] > 0.28] != 0).all()
    with pytest.raises(ValueError, match='fg_alpha'):
        confident_regions(gen, cam, img, fg_alpha=4.0, bg_alpha=0.25)


def test_targets_on_the_grid():
    r = np.full((8, 12), IGNORE, np.uint8)
    r[:4, :4] = 0  # all background -> 0
    r[1, 5] = 1  # one crack pixel, rest unsure -> 1
    r[4:, :4] = 0
    r[5, 2] = 1  # crack beside background -> unsure
    r[4:, 4:8] = 0
    r[6, 6] = IGNORE  # one unsure pixel -> unsure
    t = affinity_targets(r, 4)
    np.testing.assert_array_equal(
        t, [[0, 1, IGNORE], [IGNORE, IGNORE, IGNORE]])
    # a partial last cell is padded with unsure pixels
    assert affinity_targets(np.zeros((5, 4), np.uint8), 4).tolist() == [
        [0], [IGNORE]]


def test_loss_by_hand():
    f = torch.tensor([[[[0.0, 0.5, 2.0]]]])  # (1, 1, 1, 3)
    t = torch.tensor([[[1, 1, 0]]], dtype=torch.uint8)
    loss, counts = affinity_loss(f, t, radius=2)
    assert counts == dict(fg=1, bg=0, neg=1)
    want = 0.25 * 0.5 + 0.5 * -math.log(1 - math.exp(-1.5))
    assert float(loss) == pytest.approx(want, rel=1e-5)


@pytest.fixture(scope='module')
def thin_cracks(tmp_path_factory):
    """96x96 synthetic images and a CAM stand-in: the mask blurred into a
    blob 5x wider than the crack (the CAM's coarseness)."""
    root = str(tmp_path_factory.mktemp('aff_syn'))
    cfg = dataclasses.replace(SyntheticCrackConfig(), height=96, width=96,
                              crack_free_prob=0.0, crack_length=(50, 120))
    write_synthetic_dataset(root, seed=3, splits=dict(train=6), cfg=cfg)
    folder = osp.join(root, 'images', 'train')
    names = sorted(os.listdir(folder))
    images = [read_image(osp.join(folder, n)) for n in names]
    masks = [read_image(osp.join(root, 'masks', 'train', n[:-4] + '.png'),
                        'grayscale') >= 128 for n in names]
    blobs = []
    for m in masks:
        b = cv2.GaussianBlur(m.astype(np.float32), (0, 0), 4)
        blobs.append((b / b.max()).astype(np.float32))
    return root, images, masks, blobs


def _stand_in_cam(gen, images, blobs):
    by_image = {id(img): b for img, b in zip(images, blobs)}
    gen.cam = lambda img: by_image[id(img)]
    return gen


@pytest.fixture(scope='module')
def trained(classifier, thin_cracks, tmp_path_factory):
    _, images, _, blobs = thin_cracks
    gen = _stand_in_cam(CRFLabelGenerator(*classifier, crf=THIN_CRF),
                        images, blobs)
    net, stats = train_affinity_net(
        gen, images, affinity=dict(iterations=120, crop_size=64,
                                   batch_size=2), log=None)
    path = str(tmp_path_factory.mktemp('aff') / 'affinity.pth')
    save_affinity_net(path, net, dict(images=len(images)))
    return net, stats, path


def test_training_separates_crack_from_background(trained, thin_cracks,
                                                  classifier):
    net, stats, path = trained
    _, images, masks, _ = thin_cracks
    assert stats['pairs']['fg'] > 0 and stats['pairs']['neg'] > 0
    assert stats['last_loss'] < 0.6 * stats['first_loss']
    norm = CRFLabelGenerator(*classifier).classifier.normalise
    same, cross = [], []
    for img, m in zip(images, masks):
        with torch.no_grad():
            f = net(norm(img)[None])
        t = torch.from_numpy(affinity_targets(m.astype(np.uint8), 4))
        for dy, dx in neighbour_offsets(3, half=True):
            a = pair_affinities(f, dy, dx)[0]
            h, w = a.shape
            ta = t[max(0, -dy):max(0, -dy) + h, max(0, -dx):max(0, -dx) + w]
            tb = t[max(0, dy):max(0, dy) + h, max(0, dx):max(0, dx) + w]
            ok = (ta != IGNORE) & (tb != IGNORE)
            same.append(a[ok & (ta == tb) & (ta == 1)])
            cross.append(a[ok & (ta != tb)])
    same, cross = torch.cat(same).mean(), torch.cat(cross).mean()
    assert same > cross + 0.2, (float(same), float(cross))
    loaded = load_affinity_net(path)
    x = norm(images[0])[None]
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), net(x))


def test_generator_composition(classifier, trained, thin_cracks):
    _, _, path = trained
    _, images, _, blobs = thin_cracks
    gen = AffinityWalkLabelGenerator(*classifier, crf=THIN_CRF,
                                     affinity=dict(checkpoint=path))
    assert gen.settings()['walk'] == load_preset('affinity_walk')['walk']
    assert gen.crf_labels.crf.bilateral_sxy == 10.0
    img = images[0]
    result = gen(img, return_stages=True)
    assert set(result.stages) == {'cam', 'walk', 'crf_prob'}
    cam = gen.crf_labels.cam(img)
    np.testing.assert_array_equal(result.stages['cam'], cam)
    walked = gen.walk(cam, img)
    np.testing.assert_array_equal(result.stages['walk'], walked)
    np.testing.assert_array_equal(result.soft,
                                  gen.crf_labels.refine(walked, img))
    np.testing.assert_array_equal(result.label, result.soft >= 0.5)
    # the walk by hand on the feature grid
    with torch.no_grad():
        f = gen.net(gen.crf_labels.classifier.normalise(img)[None])[0]
    small = cv2.resize(cam, (24, 24), interpolation=cv2.INTER_AREA)
    w = random_walk(f, np.stack([1 - small, small]), 5, 8.0, 8)
    prob = np.clip(w[1] / w.sum(axis=0), 0, 1)
    from mmcrack.pseudo_label.localization import upsample_map
    np.testing.assert_allclose(walked, upsample_map(prob, (96, 96),
                                                    'bilinear'), atol=1e-6)
    with pytest.raises(ValueError, match='affinity.checkpoint is not set'):
        AffinityWalkLabelGenerator(*classifier)
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        AffinityWalkLabelGenerator(*classifier,
                                   affinity=dict(checkpoint='nope.pth'))


def test_training_without_crack_pairs_warns(classifier, thin_cracks):
    """The reference CRF smooths the thin cracks away: no confident crack,
    no crack pairs, a warning."""
    _, images, _, blobs = thin_cracks
    gen = _stand_in_cam(CRFLabelGenerator(*classifier), images, blobs)
    with pytest.warns(UserWarning, match='no fg'):
        train_affinity_net(gen, images[:2], affinity=dict(
            iterations=2, crop_size=64, batch_size=1), log=None)


def test_generate_tool_with_the_preset(classifier, trained, thin_cracks,
                                       tmp_path):
    _, _, path = trained
    root = thin_cracks[0]
    img_dir = tmp_path / 'imgs'
    shutil.copytree(osp.join(root, 'images', 'train'), img_dir)
    from conftest import load_tool
    tool = load_tool('tools/generate_pseudo_labels.py')
    summary = tool.main([*classifier, str(img_dir), str(tmp_path / 'out'),
                         '--preset', 'affinity_walk', '--save-stages',
                         '--cfg-options', f'affinity.checkpoint={path}',
                         'output.min_crack_pixels=1'])
    assert summary['generated'] == 6
    assert summary['settings']['affinity']['checkpoint'] == path
    gen = AffinityWalkLabelGenerator(
        *classifier, affinity=dict(checkpoint=path),
        output=dict(min_crack_pixels=1))
    name = sorted(os.listdir(img_dir))[0]
    stored = cv2.imread(str(tmp_path / 'out' / (name[:-4] + '.png')),
                        cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(
        stored, gen(read_image(str(img_dir / name))).label * 255)


def test_net_shapes():
    net = PixelAffinityNet(8, 12)
    out = net(torch.zeros(2, 3, 37, 50))
    assert out.shape == (2, 12, 10, 13)
