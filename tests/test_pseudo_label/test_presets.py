"""Pseudo-label presets: paper.py is the one place the settings are written;
the generator's defaults, the CLI's --preset and the overrides all read
it."""
import os.path as osp

import pytest
from conftest import REPO, make_tiny_classifier
from mmengine.config import Config

import mmcrack  # noqa: F401
from mmcrack.pseudo_label.generator import PseudoLabelGenerator
from mmcrack.pseudo_label.label_output import LabelOutput
from mmcrack.pseudo_label.presets import (
    load_preset,
    load_preset_config,
    merge_settings,
    preset_path,
)

PRESETS = osp.join(REPO, 'configs', '_base_', 'pseudo_label')


def _file(name):
    cfg = Config.fromfile(osp.join(PRESETS, f'{name}.py'))
    out = cfg.pseudo_label_generator.to_dict()
    out.pop('type')
    return out


def _diff(a, b, where=''):
    out = {}
    for key in a:
        if isinstance(a[key], dict):
            out.update(_diff(a[key], b[key], f'{where}{key}.'))
        elif a[key] != b[key]:
            out[f'{where}{key}'] = b[key]
    return out


def test_generator_defaults_are_the_paper_file(tmp_path):
    cfg, ckpt = make_tiny_classifier(tmp_path)
    generator = PseudoLabelGenerator(cfg, ckpt)
    assert generator.settings() == _file('paper')
    assert generator.output == LabelOutput(True, 0.05, 100)
    # the CRF-free defaults name every step
    assert set(_file('paper')) >= {'patch', 'cam', 'fusion', 'threshold',
                                   'merge', 'output'}


def test_published_code_is_a_delta_on_the_paper():
    assert _diff(_file('paper'), _file('published_code')) == {
        'patch.mode': 'grid', 'patch.resize': 'hamming',
        'patch.quantize': True, 'cam.class_index': 'argmax',
        'cam.normalize': 'max', 'cam.resize': 'hamming',
        'cam.quantize': True, 'threshold.d': 5,
        'threshold.filter_on': 'color', 'threshold.channel_order': 'bgr',
        'merge.d': 5, 'output.binarize': False,
        'output.min_crack_pixels': 0}
    assert load_preset('published_code') == _file('published_code')


def test_options_and_errors(tmp_path):
    settings = load_preset('paper', {'threshold.d': 5,
                                     'output.min_crack_pixels': 1})
    assert settings['threshold']['d'] == 5
    assert settings['output']['min_crack_pixels'] == 1
    assert settings['threshold']['window'] == 32
    assert load_preset_config('paper')['type'] == 'PseudoLabelGenerator'
    with pytest.raises(KeyError, match="unknown setting 'threshold.dd'"):
        load_preset('paper', {'threshold.dd': 5})
    with pytest.raises(FileNotFoundError, match='nope.py.*paper'):
        preset_path('nope')
    with pytest.raises(TypeError, match='merge must be a dict'):
        merge_settings(load_preset(), {'merge': 3})
    own = tmp_path / 'mine.py'
    own.write_text(f"_base_ = ['{PRESETS}/paper.py']\n"
                   'pseudo_label_generator = dict(output=dict('
                   'threshold=0.3))\n')
    assert load_preset(str(own))['output']['threshold'] == 0.3


def test_label_output_rules():
    import numpy as np
    soft = np.array([[0.0, 0.04, 0.05], [1 / 255, 0.3, 1.0]], np.float32)
    binary = LabelOutput(True, 0.05, 2)
    label = binary.label(soft)
    assert label.tolist() == [[0, 0, 1], [0, 1, 1]]
    stored = binary.encode(soft, label)
    assert stored.tolist() == [[0, 0, 255], [0, 255, 255]]
    assert binary.crack_pixels(stored) == 3 and binary.keep(3)
    assert not binary.keep(1)
    soft_out = LabelOutput(False, 0.05, 0)
    label = soft_out.label(soft)
    assert label.tolist() == [[0, 1, 1], [1, 1, 1]]
    stored = soft_out.encode(soft, label)
    assert stored.tolist() == [[0, 10, 13], [1, 76, 255]]
    assert soft_out.crack_pixels(stored) == int(label.sum()) == 5
    with pytest.raises(ValueError, match='min_crack_pixels'):
        LabelOutput.from_settings(dict(binarize=True, threshold=0.1,
                                       min_crack_pixels=-1))


@pytest.mark.parametrize('preset,delta', [
    ('ablation_no_bilateral', {'threshold.filter_on': 'none',
                               'merge.bilateral': False}),
    ('ablation_no_morphology', {'fusion.erosion_iters': 0,
                                'merge.closing_iters': 0}),
    ('ablation_otsu2', {'threshold.classes': 2}),
])
def test_ablation_presets_change_exactly_what_they_say(preset, delta):
    assert _diff(_file('paper'), _file(preset)) == delta


def test_ablation_steps_do_what_they_say():
    """The switched-off steps are really off: the thresholding branch
    without bilateral equals multi-Otsu of the plain grey image; merge
    without bilateral and closing is the quantised product."""
    import numpy as np

    from mmcrack.datasets.synthetic import make_synthetic_sample
    from mmcrack.pseudo_label.generator import merge_maps
    from mmcrack.pseudo_label.thresholding import (
        bilateral_filter,
        patch_multiotsu_mask,
        rgb_to_gray,
        threshold_map,
    )
    img, _ = make_synthetic_sample(0, 3)
    off = load_preset('ablation_no_bilateral')
    np.testing.assert_array_equal(
        threshold_map(img, **off['threshold']),
        patch_multiotsu_mask(rgb_to_gray(img), 32, 8, 256, 3))
    assert not np.array_equal(threshold_map(img, **off['threshold']),
                              threshold_map(img,
                                            **load_preset()['threshold']))
    rng = np.random.default_rng(0)
    loc = rng.random(img.shape[:2]).astype(np.float32)
    mask = rng.random(img.shape[:2]) > 0.5
    plain = merge_maps(loc, mask, **{**off['merge'], **load_preset(
        'ablation_no_morphology')['merge'], 'bilateral': False})
    np.testing.assert_array_equal(
        plain, np.round(loc * mask * 255).astype(np.uint8) / np.float32(255))
    two = load_preset('ablation_otsu2')['threshold']
    np.testing.assert_array_equal(
        threshold_map(img, **two),
        patch_multiotsu_mask(
            bilateral_filter(img, 2, 120.0, 120.0, to_gray=True), 32, 8,
            256, 2))
