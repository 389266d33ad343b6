"""PseudoLabelGenerator: composition, shapes, determinism, bad input."""
import warnings

import numpy as np
import pytest
from conftest import make_tiny_classifier as _classifier

import mmcrack  # noqa: F401
from mmcrack.datasets.synthetic import make_synthetic_sample
from mmcrack.pseudo_label.generator import (
    PseudoLabelGenerator,
    as_rgb_uint8,
    merge_maps,
)
from mmcrack.pseudo_label.localization import fuse_localization
from mmcrack.pseudo_label.presets import load_preset
from mmcrack.pseudo_label.thresholding import threshold_map

DEFAULTS = load_preset('paper')


@pytest.fixture(scope='module')
def generator(classifier):
    return PseudoLabelGenerator(*classifier, device='cpu')


def _image(h=96, w=128, index=2):
    img, _ = make_synthetic_sample(0, index)
    reps = (-(-h // img.shape[0]), -(-w // img.shape[1]), 1)
    return np.ascontiguousarray(np.tile(img, reps)[:h, :w])


def test_composition_equals_the_steps(generator):
    img = _image()
    result = generator(img, return_stages=True)
    st = result.stages
    assert set(st) == {'patch', 'cam', 'localization', 'threshold', 'merged'}
    np.testing.assert_array_equal(
        st['localization'], fuse_localization(st['patch'], st['cam'],
                                              **DEFAULTS['fusion']))
    np.testing.assert_array_equal(
        st['threshold'] > 0, threshold_map(img, **DEFAULTS['threshold']))
    merged = merge_maps(st['localization'], st['threshold'] > 0,
                        **DEFAULTS['merge'])
    np.testing.assert_array_equal(result.soft, merged)
    np.testing.assert_array_equal(
        result.label, merged >= DEFAULTS['output']['threshold'])
    assert result.keep == (result.label.sum() >= 100)
    for v in st.values():
        assert v.shape == img.shape[:2] and v.dtype == np.float32
        assert v.min() >= 0 and v.max() <= 1


def test_merge_maps_by_hand():
    loc = np.zeros((9, 9))
    loc[4, 2:7] = 0.8
    mask = np.zeros((9, 9), bool)
    mask[4, 2:6] = True
    out = merge_maps(loc, mask, bilateral=False, closing_iters=0)
    expected = np.zeros((9, 9), np.float32)
    expected[4, 2:6] = 204 / 255  # round(0.8 * 255)
    np.testing.assert_array_equal(out, expected)
    closed = merge_maps(loc, mask, bilateral=False, closing_size=3,
                        closing_iters=1)
    assert closed[4, 2:6].min() == pytest.approx(204 / 255)


@pytest.mark.parametrize('shape', [(333, 517), (20, 20), (31, 70)])
def test_odd_sizes_and_determinism(generator, shape):
    img = _image(*shape)
    a = generator(img)
    b = generator(img)
    assert a.soft.shape == shape and a.label.shape == shape
    np.testing.assert_array_equal(a.soft, b.soft)
    np.testing.assert_array_equal(a.label, b.label)
    assert a.label.dtype == np.uint8 and set(np.unique(a.label)) <= {0, 1}


def test_tiles_are_processed_independently(classifier):
    gen = PseudoLabelGenerator(*classifier, tile_size=64)
    img = _image(100, 150)
    out = gen(img).soft
    assert out.shape == (100, 150)
    whole = PseudoLabelGenerator(*classifier)
    np.testing.assert_array_equal(out[:64, :64], whole(img[:64, :64]).soft)


def test_soft_output_preset(classifier):
    gen = PseudoLabelGenerator(*classifier,
                               output=dict(binarize=False, min_crack_pixels=0))
    r = gen(_image())
    np.testing.assert_array_equal(r.label, r.soft > 0)
    assert r.keep


def test_settings_are_merged_and_checked(classifier):
    gen = PseudoLabelGenerator(*classifier, threshold=dict(d=5))
    s = gen.settings()
    assert s['threshold']['d'] == 5 and s['threshold']['window'] == 32
    with pytest.raises(KeyError, match="threshold.dd"):
        PseudoLabelGenerator(*classifier, threshold=dict(dd=5))
    with pytest.raises(KeyError, match='unknown setting'):
        PseudoLabelGenerator(*classifier, nonsense=1)
    with pytest.raises(ValueError, match='target_layer'):
        PseudoLabelGenerator(*classifier, cam=dict(target_layer='nope'))


def test_bad_classifiers(tmp_path, classifier):
    cfg3, ckpt3 = _classifier(tmp_path, num_classes=3, classes=None)
    with pytest.raises(ValueError, match='2 classes'):
        PseudoLabelGenerator(cfg3, ckpt3)
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        PseudoLabelGenerator(classifier[0], str(tmp_path / 'nope.pth'))
    cfg34, ckpt34 = _classifier(tmp_path, depth=34)
    with pytest.raises(ValueError, match='does not fit the classifier'):
        PseudoLabelGenerator(classifier[0], ckpt34)
    _, ckpt_cls = _classifier(tmp_path, classes=('a', 'b'))
    with pytest.raises(ValueError, match="classes .* are not"):
        PseudoLabelGenerator(classifier[0], ckpt_cls)


def test_crack_index_from_checkpoint_meta(tmp_path):
    cfg, ckpt = _classifier(tmp_path, classes=('crack', 'no_crack'))
    assert PseudoLabelGenerator(cfg, ckpt).crack_index == 0


def test_image_conversions():
    rgb = _image(40, 50)
    with pytest.warns(UserWarning, match='grey'):
        grey = as_rgb_uint8(rgb[:, :, 0], 'g.png')
    assert grey.shape == (40, 50, 3)
    with pytest.warns(UserWarning, match='alpha'):
        out = as_rgb_uint8(np.dstack([rgb, np.full((40, 50), 255, np.uint8)]))
    np.testing.assert_array_equal(out, rgb)
    with pytest.warns(UserWarning, match='16-bit'):
        out = as_rgb_uint8(rgb.astype(np.uint16) * 257)
    np.testing.assert_array_equal(out, rgb)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert as_rgb_uint8(rgb) is not None
    with pytest.raises(ValueError, match='x.png: expected an'):
        as_rgb_uint8(np.zeros((4, 4, 2), np.uint8), 'x.png')
