"""CRFLabelGenerator (CRF labels): Grad-CAM -> dense CRF -> binary label;
its preset, the CLI (--preset crf) and a weakly-supervised config."""
import dataclasses
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from conftest import REPO
from conftest import make_tiny_classifier as _classifier
from mmengine.config import Config

import mmcrack  # noqa: F401
from mmcrack.pseudo_label.crf_label_generator import CRFLabelGenerator
from mmcrack.pseudo_label.dense_crf import DenseCRFSettings, dense_crf
from mmcrack.pseudo_label.label_output import LabelOutput
from mmcrack.pseudo_label.localization import grad_cam, upsample_map
from mmcrack.pseudo_label.presets import (
    build_generator,
    load_preset,
    load_preset_config,
)
from mmcrack.utils.file_io import read_image

CRF_PRESET = osp.join(REPO, 'configs', '_base_', 'pseudo_label', 'crf.py')
WSV_CRF = osp.join(
    REPO, 'configs', 'wsv',
    'unet-s5-d16_fcn_1xb4-400i_synthetic-256x256_wsv-crf.py')


@pytest.fixture(scope='module')
def generator(classifier):
    return CRFLabelGenerator(*classifier)


def _image(tiny_synthetic, i=0):
    folder = osp.join(tiny_synthetic, 'images', 'train')
    return read_image(osp.join(folder, sorted(os.listdir(folder))[i]))


def test_defaults_are_the_crf_file_and_spell_every_field(generator):
    cfg = Config.fromfile(CRF_PRESET).pseudo_label_generator.to_dict()
    assert cfg.pop('type') == 'CRFLabelGenerator'
    assert generator.settings() == cfg == load_preset('crf')
    assert set(cfg) == {'cam', 'crf', 'output', 'channels_last'}
    assert set(cfg['crf']) == {
        f.name for f in dataclasses.fields(DenseCRFSettings)}
    assert generator.crf == DenseCRFSettings(**cfg['crf'])
    assert generator.output == LabelOutput(True, 0.5, 100)


def test_composition_equals_the_steps(generator, classifier, tiny_synthetic):
    img = _image(tiny_synthetic)
    result = generator(img, return_stages=True)
    assert set(result.stages) == {'cam', 'crf_prob'}
    # step 1 by hand: plain Grad-CAM of class 1 at backbone.layer4
    model = generator.classifier.model
    x = generator.classifier.normalise(img)[None]
    heat = grad_cam(model, model.backbone.layer4, x, 1,
                    forward_fn=generator.classifier.logits)[0]
    cam = upsample_map(heat, img.shape[:2], 'bilinear')
    np.testing.assert_array_equal(result.stages['cam'], cam)
    # step 2: the dense CRF with the preset's parameters
    label, prob = dense_crf(cam, img, DenseCRFSettings(), return_prob=True)
    np.testing.assert_array_equal(result.stages['crf_prob'], prob)
    np.testing.assert_array_equal(result.soft, prob)
    # step 3: posterior >= 0.5, i.e. the CRF's own label
    np.testing.assert_array_equal(result.label, prob >= 0.5)
    np.testing.assert_array_equal(result.label, label)
    assert result.keep == (int(label.sum()) >= 100)
    assert result.label.dtype == np.uint8 and result.soft.dtype == np.float32
    assert result.soft.shape == img.shape[:2]


def test_crf_moves_a_coarse_map_onto_the_dark_line(generator):
    """A blob around a dark line on a bright background: the CRF label is
    closer to the line than the thresholded blob is."""
    img = np.full((60, 80, 3), 200, np.uint8)
    line = np.zeros((60, 80), bool)
    line[28:32, 10:70] = True
    img[line] = 40
    blob = np.full((60, 80), 0.2, np.float32)
    blob[20:40, 5:75] = 0.6  # 5x wider than the line
    label = generator.output.label(generator.refine(blob, img))
    iou = (label.astype(bool) & line).sum() / (label.astype(bool)
                                              | line).sum()
    blob_iou = line.sum() / (blob >= 0.5).sum()
    assert blob_iou == pytest.approx(240 / 1400)
    assert iou > 0.9 > blob_iou


def test_settings_merge_and_errors(classifier):
    gen = CRFLabelGenerator(*classifier, crf=dict(iterations=2),
                            output=dict(min_crack_pixels=1))
    s = gen.settings()
    assert s['crf']['iterations'] == 2 and s['crf']['bilateral_sxy'] == 80.0
    assert gen.crf.iterations == 2 and gen.output.min_crack_pixels == 1
    with pytest.raises(KeyError, match='crf.nope'):
        CRFLabelGenerator(*classifier, crf=dict(nope=1))
    with pytest.raises(ValueError, match='bilateral_srgb must be > 0'):
        CRFLabelGenerator(*classifier, crf=dict(bilateral_srgb=0))
    with pytest.raises(ValueError, match='class_index'):
        CRFLabelGenerator(*classifier, cam=dict(class_index=1))
    with pytest.raises(ValueError, match='cam.target_layer'):
        CRFLabelGenerator(*classifier, cam=dict(target_layer='nope'))


def test_crack_class_from_the_checkpoint(tmp_path, tiny_synthetic):
    cfg, ckpt = _classifier(tmp_path, classes=('crack', 'no_crack'))
    gen = CRFLabelGenerator(cfg, ckpt)
    assert gen.classifier.crack_index == 0
    img = _image(tiny_synthetic, 1)
    model = gen.classifier.model
    heat = grad_cam(model, model.backbone.layer4,
                    gen.classifier.normalise(img)[None], 0,
                    forward_fn=gen.classifier.logits)[0]
    np.testing.assert_array_equal(
        gen.cam(img), upsample_map(heat, img.shape[:2], 'bilinear'))


def test_grey_input_and_small_image(generator):
    grey = np.full((20, 24), 150, np.uint8)
    grey[9:11] = 30
    with pytest.warns(UserWarning, match='grey image converted'):
        result = generator(grey)
    assert result.label.shape == (20, 24)


def _tool():
    from conftest import load_tool
    return load_tool('tools/generate_pseudo_labels.py')


def test_generate_tool_with_the_crf_preset(classifier, generator,
                                           tiny_synthetic, tmp_path):
    img_dir = tmp_path / 'imgs'
    shutil.copytree(osp.join(tiny_synthetic, 'images', 'train'), img_dir)
    out = tmp_path / 'out'
    summary = _tool().main([*classifier, str(img_dir), str(out), '--preset',
                            'crf', '--save-stages', '--cfg-options',
                            'output.min_crack_pixels=1'])
    assert summary['generated'] == 4
    assert summary['settings']['crf'] == load_preset('crf')['crf']
    on_disk = json.loads((out / 'summary.json').read_text())
    assert on_disk['min_crack_pixels'] == 1
    for name in sorted(os.listdir(img_dir)):
        stem = osp.splitext(name)[0]
        stored = cv2.imread(str(out / f'{stem}.png'), cv2.IMREAD_UNCHANGED)
        expected = generator(read_image(str(img_dir / name))).label
        np.testing.assert_array_equal(stored, expected * 255)
        assert osp.isfile(out / 'stages' / f'{stem}.png')
        assert (stem in on_disk['kept']) == (expected.sum() >= 1)


def test_wsv_config_builds_the_crf_generator(classifier):
    from mmcrack.engine import prepare_weakly_supervised_cfg
    cfg = Config.fromfile(WSV_CRF)
    assert cfg.pseudo_label_generator == dict(type='CRFLabelGenerator',
                                              preset='crf')
    prepare_weakly_supervised_cfg(cfg)
    hook = cfg.custom_hooks[0]
    gen = build_generator(hook.generator, 'cpu',
                          classifier_config=classifier[0],
                          classifier_checkpoint=classifier[1])
    assert isinstance(gen, CRFLabelGenerator)
    assert gen.settings() == load_preset('crf')
    # a field set beside the preset
    cfg = Config.fromfile(WSV_CRF)
    cfg.merge_from_dict({'pseudo_label_generator.crf.iterations': 2})
    gen = build_generator(cfg.pseudo_label_generator, 'cpu',
                          classifier_config=classifier[0],
                          classifier_checkpoint=classifier[1])
    assert gen.crf.iterations == 2
    # a preset file: the generator reads it the way the CLI does
    assert load_preset_config('crf')['type'] == 'CRFLabelGenerator'


def test_no_localization_cache_for_crf_labels(classifier, tmp_path):
    """The CRF labels keep no classifier maps: a cache folder is refused by
    name before any classifier is loaded, and nothing is written."""
    from mmcrack.pseudo_label.presets import keeps_localization_cache
    assert keeps_localization_cache(load_preset_config('paper'))
    for preset in ('crf', 'affinity_walk'):
        cfg = load_preset_config(preset)
        assert not keeps_localization_cache(cfg)
        with pytest.raises(ValueError, match=cfg['type'] +
                           ' generator keeps no localisation cache'):
            build_generator(cfg, 'cpu', classifier_config=classifier[0],
                            classifier_checkpoint=classifier[1],
                            localization_cache=str(tmp_path / 'cache'))
    assert not (tmp_path / 'cache').exists()


@pytest.mark.slow
def test_wsv_crf_training_run(classifier, tiny_synthetic, tmp_path):
    """The weakly-supervised config trains 2 iterations on CRF labels made
    by PseudoLabelHook, the same labels as the generator makes."""
    from mmcrack.utils.launch import build_runner
    cfg = Config.fromfile(WSV_CRF)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.classifier_config, cfg.classifier_checkpoint = classifier
    cfg.merge_from_dict({'pseudo_label_generator.output.min_crack_pixels': 1})
    cfg.train_cfg.update(max_iters=2, val_interval=1)
    cfg.default_hooks.checkpoint.interval = 2
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].update(num_workers=0, persistent_workers=False)
        cfg[key].dataset.data_root = tiny_synthetic
    cfg.train_dataloader.batch_size = 2
    runner = build_runner(cfg)
    runner.train()
    assert runner.iter == 2
    hook = [h for h in runner.hooks
            if type(h).__name__ == 'PseudoLabelHook'][0]
    assert hook.stats['settings'] == dict(
        type='CRFLabelGenerator', preset='crf',
        output=dict(min_crack_pixels=1))
    label_dir = osp.join(hook.stats['label_dir'], 'train')
    gen = CRFLabelGenerator(*classifier, output=dict(min_crack_pixels=1))
    img_dir = osp.join(tiny_synthetic, 'images', 'train')
    for name in sorted(os.listdir(img_dir)):
        stored = cv2.imread(osp.join(label_dir, name[:-4] + '.png'),
                            cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(
            stored, gen(read_image(osp.join(img_dir, name))).label * 255)
