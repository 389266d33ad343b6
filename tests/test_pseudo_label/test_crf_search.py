"""CRF grid search: image sample, grid, scores, best settings, the preset
file it writes, and tools/analysis_tools/crf_grid_search.py."""
import dataclasses
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from conftest import REPO, run_tool

import mmcrack  # noqa: F401
from mmcrack.pseudo_label.crf_label_generator import CRFLabelGenerator
from mmcrack.pseudo_label.crf_search import (
    COARSE_GRID,
    DEFAULT_GRID,
    grid_settings,
    load_grid,
    sample_pairs,
    search_crf,
    write_preset,
)
from mmcrack.pseudo_label.dense_crf import DenseCRFSettings
from mmcrack.pseudo_label.presets import (
    build_generator,
    load_preset,
    load_preset_config,
)
from mmcrack.utils.file_io import read_image

TOOL = 'tools/analysis_tools/crf_grid_search.py'
CRF_PRESET = osp.join(REPO, 'configs', '_base_', 'pseudo_label', 'crf.py')


@pytest.fixture(scope='module')
def data(tiny_synthetic):
    pairs = sample_pairs(tiny_synthetic, 'train', 100, 0)
    images = [read_image(p) for _, p, _ in pairs]
    masks = [read_image(m, 'grayscale') >= 128 for _, _, m in pairs]
    return [s for s, _, _ in pairs], images, masks


def _numbered_split(tmp_path, n=10):
    for sub in ('images', 'masks'):
        os.makedirs(tmp_path / sub / 'train')
    for i in range(n):
        img = np.full((8, 8, 3), i, np.uint8)
        cv2.imwrite(str(tmp_path / 'images' / 'train' / f'{i:02d}.jpg'), img)
        cv2.imwrite(str(tmp_path / 'masks' / 'train' / f'{i:02d}.png'),
                    img[:, :, 0])
    return str(tmp_path)


def test_sample_is_fixed_by_the_seed(tmp_path):
    root = _numbered_split(tmp_path)
    stems = [s for s, _, _ in sample_pairs(root, 'train', 3, seed=0)]
    # numpy default_rng(0).choice(10, 3, replace=False), sorted
    assert stems == ['05', '06', '09']
    assert [s for s, _, _ in sample_pairs(root, 'train', 3, 0)] == stems
    assert [s for s, _, _ in sample_pairs(root, 'train', 3, 1)] != stems
    everything = sample_pairs(root, 'train', 100, 5)
    assert [s for s, _, _ in everything] == [f'{i:02d}' for i in range(10)]
    assert everything[2][1].endswith('images/train/02.jpg')
    assert everything[2][2].endswith('masks/train/02.png')
    with pytest.raises(ValueError, match='num_images'):
        sample_pairs(root, 'train', 0)


def test_grid_combinations():
    base = DenseCRFSettings()
    combos = grid_settings(dict(iterations=[5, 10],
                                bilateral_srgb=[5.0, 13.0]), base)
    # product over the fields in DenseCRFSettings order, values as listed
    assert [(c.bilateral_srgb, c.iterations) for c in combos] == [
        (5.0, 5), (5.0, 10), (13.0, 5), (13.0, 10)]
    assert all(c.gaussian_sxy == base.gaussian_sxy for c in combos)
    assert len(grid_settings(dict(iterations=[5, 5]), base)) == 1
    assert len(grid_settings('default', base)) == 16
    assert len(grid_settings('coarse', base)) == 4
    for grid in (DEFAULT_GRID, COARSE_GRID):  # the reference values too
        assert base in grid_settings(grid, base)
    with pytest.raises(KeyError, match='unknown CRF setting'):
        load_grid(dict(sxy=[1]))
    with pytest.raises(ValueError, match='non-empty list'):
        load_grid(dict(iterations=[]))
    with pytest.raises(ValueError, match='must be > 0'):
        grid_settings(dict(bilateral_srgb=[0.0]), base)
    with pytest.raises(FileNotFoundError, match='nope.json'):
        load_grid('nope.json')


def test_best_beats_the_base_where_it_must(classifier, data):
    """A CAM that is the mask itself (0.9 on cracks, 0.1 elsewhere): with no
    mean-field step the label is the mask (mIoU 1); the reference CRF
    smooths the thin cracks away. The search must find iterations=0."""
    stems, images, masks = data
    gen = CRFLabelGenerator(*classifier)
    by_image = {id(img): m for img, m in zip(images, masks)}
    gen.cam = lambda img: np.where(by_image[id(img)], 0.9,
                                   0.1).astype(np.float32)
    result = search_crf(gen, images, masks, dict(iterations=[0, 5]),
                        stems=stems, log=None)
    assert result.best == dataclasses.asdict(DenseCRFSettings(iterations=0))
    assert result.best_miou == 1.0
    assert result.base == dataclasses.asdict(DenseCRFSettings())
    assert result.base_miou < 0.9
    assert [r['is_base'] for r in result.results] == [True, False]
    best = result.results[1]
    assert best['crack_iou'] == best['background_iou'] == 1.0
    assert best['mean_image_crack_iou'] == 1.0


def test_scores_by_hand(classifier):
    """mIoU = mean of crack and background IoU over all pixels."""
    gen = CRFLabelGenerator(*classifier)
    img = np.full((4, 5, 3), 100, np.uint8)
    cam = np.zeros((4, 5), np.float32)
    cam[0, :3] = 1.0  # label: 3 pixels
    mask = np.zeros((4, 5), bool)
    mask[0, 1:5] = True  # 4 pixels, 2 shared
    gen.cam = lambda _: cam
    result = search_crf(gen, [img], [mask], dict(iterations=[0]), log=None)
    r = result.results[1]
    assert r['crack_iou'] == pytest.approx(2 / 5)
    assert r['background_iou'] == pytest.approx(15 / 18)
    assert r['miou'] == pytest.approx((2 / 5 + 15 / 18) / 2)
    assert r['mean_image_crack_iou'] == pytest.approx(2 / 5)


def test_same_result_in_any_number_of_workers_and_a_loadable_preset(
        classifier, data, tmp_path):
    stems, images, masks = data
    gen = CRFLabelGenerator(*classifier)
    grid = dict(bilateral_srgb=[5.0, 13.0], iterations=[2, 5])
    one = search_crf(gen, images, masks, grid, stems=stems, log=None)
    two = search_crf(gen, images, masks, grid, stems=stems, workers=2,
                     log=None)
    assert one.results == two.results and one.best == two.best
    assert len(one.results) == 4  # the base is in the grid
    assert one.best_miou == max(r['miou'] for r in one.results)
    assert one.best_miou >= one.base_miou
    path = write_preset(str(tmp_path / 'best.py'), one, CRF_PRESET,
                        settings=gen.settings())
    settings = load_preset(path)
    assert settings['crf'] == one.best
    assert {k: v for k, v in settings.items() if k != 'crf'} == {
        k: v for k, v in load_preset('crf').items() if k != 'crf'}
    built = build_generator(load_preset_config(path), 'cpu',
                            classifier_config=classifier[0],
                            classifier_checkpoint=classifier[1])
    assert isinstance(built, CRFLabelGenerator)
    assert built.crf == DenseCRFSettings(**one.best)
    # a generator built on the file carries the preset's other steps
    other = CRFLabelGenerator(*classifier, preset=path)
    assert other.settings() == settings


def test_tool_writes_the_same_preset_for_the_same_seed(classifier,
                                                       tiny_synthetic,
                                                       tmp_path):
    grid = tmp_path / 'grid.json'
    grid.write_text(json.dumps(dict(bilateral_compat=[5.0, 10.0],
                                    iterations=[0, 5])))
    outs = []
    for name in ('a', 'b'):
        out = tmp_path / f'{name}.py'
        proc = run_tool([TOOL, *classifier, tiny_synthetic, '--num-images',
                         '3', '--seed', '1', '--grid', str(grid), '--out',
                         str(out), '--cfg-options', 'cam.resize=lanczos'])
        assert 'best mIoU' in proc.stdout
        outs.append(out)
    assert outs[0].read_bytes() == outs[1].read_bytes()
    scores = [json.loads(p.with_suffix('.json').read_text()) for p in outs]
    assert scores[0]['results'] == scores[1]['results']
    assert len(scores[0]['results']) == 4 and len(scores[0]['stems']) == 3
    assert scores[0]['stems'] == [
        s for s, _, _ in sample_pairs(tiny_synthetic, 'train', 3, 1)]
    assert scores[0]['grid'] == dict(bilateral_compat=[5.0, 10.0],
                                     iterations=[0, 5])
    best = max(scores[0]['results'], key=lambda r: r['miou'])
    settings = load_preset(str(outs[0]))
    assert settings['crf'] == best['crf'] == scores[0]['best']
    assert settings['cam']['resize'] == 'lanczos'  # the search's override
    text = outs[0].read_text()
    assert "_base_ = ['" in text and 'crf.py' in text


def test_tool_refuses_a_generator_without_a_crf(classifier, tiny_synthetic,
                                                tmp_path):
    from conftest import load_tool
    tool = load_tool(TOOL)
    with pytest.raises(SystemExit, match='not a CRF-label generator'):
        tool.main([*classifier, tiny_synthetic, '--preset', 'paper',
                   '--out', str(tmp_path / 'x.py')])
    with pytest.raises(SystemExit, match='must be a .py file'):
        tool.main([*classifier, tiny_synthetic, '--out',
                   str(tmp_path / 'x.txt')])
    assert not os.listdir(tmp_path)
