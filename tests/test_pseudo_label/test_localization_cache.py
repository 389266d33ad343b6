"""LocalizationCache: labels from cached classifier maps equal labels made
without the cache, for any preset; the classifier runs once per image; the
key separates checkpoints and map settings; broken files are made again."""
import os
import os.path as osp
import shutil

import numpy as np
import pytest

import mmcrack  # noqa: F401
from mmcrack.datasets.synthetic import make_synthetic_sample
from mmcrack.pseudo_label.generator import PseudoLabelGenerator
from mmcrack.pseudo_label.localization_cache import LocalizationCache
from mmcrack.pseudo_label.presets import load_preset

PRESETS = ('paper', 'ablation_no_bilateral', 'ablation_no_morphology',
           'ablation_otsu2')


def _images():
    return [make_synthetic_sample(0, i)[0] for i in range(3)]


class _Counting:
    """Counts the classifier passes of a generator (window maps)."""

    def __init__(self, gen):
        self.calls = 0
        inner = gen._classifier_maps

        def counted(img):
            self.calls += 1
            return inner(img)
        gen._classifier_maps = counted


@pytest.mark.parametrize('preset', PRESETS)
def test_cached_labels_equal_uncached_ones(classifier, tmp_path, preset):
    cache = str(tmp_path / 'cache')
    # the cache is filled by the paper preset, then read by each preset
    filler = PseudoLabelGenerator(*classifier, localization_cache=cache)
    for img in _images():
        filler(img)
    plain = PseudoLabelGenerator(*classifier, preset=preset)
    cached = PseudoLabelGenerator(*classifier, preset=preset,
                                  localization_cache=cache)
    counter = _Counting(cached)
    for img in _images():
        a = plain(img, return_stages=True)
        b = cached(img, return_stages=True)
        np.testing.assert_array_equal(a.soft, b.soft)
        np.testing.assert_array_equal(a.label, b.label)
        for name in a.stages:
            np.testing.assert_array_equal(a.stages[name], b.stages[name])
    assert counter.calls == 0  # every map came from the cache
    assert cached.localization_cache.stats()['hits'] == 3


def test_classifier_runs_once_per_image(classifier, tmp_path):
    gen = PseudoLabelGenerator(*classifier,
                               localization_cache=str(tmp_path / 'c'))
    counter = _Counting(gen)
    imgs = _images()
    for img in imgs + imgs:
        gen(img)
    assert counter.calls == 3
    assert gen.localization_cache.stats()['hits'] == 3
    assert gen.localization_cache.stats()['misses'] == 3


def test_key_separates_checkpoints_and_map_settings(tmp_path):
    settings = load_preset('paper')
    root = str(tmp_path)
    base = LocalizationCache(root, 'a' * 64, settings, 'cpu').folder
    other_ckpt = LocalizationCache(root, 'b' * 64, settings, 'cpu').folder
    changed = dict(settings, patch=dict(settings['patch'], stride=8))
    other_patch = LocalizationCache(root, 'a' * 64, changed, 'cpu').folder
    other_device = LocalizationCache(root, 'a' * 64, settings, 'cuda').folder
    assert len({base, other_ckpt, other_patch, other_device}) == 4
    # fusion / threshold / merge / output settings share the maps
    for step, field, value in (('fusion', 'threshold', 0.3),
                               ('threshold', 'classes', 2),
                               ('merge', 'closing_iters', 0),
                               ('output', 'threshold', 0.5)):
        delta = dict(settings, **{step: dict(settings[step],
                                             **{field: value})})
        assert LocalizationCache(root, 'a' * 64, delta,
                                 'cpu').folder == base


def test_image_content_is_the_key(tmp_path):
    cache = LocalizationCache(str(tmp_path), 'a' * 64, load_preset('paper'),
                              'cpu')
    img = _images()[0]
    patch = np.random.default_rng(0).random(img.shape[:2]).astype(np.float32)
    cam = np.random.default_rng(1).random(img.shape[:2])  # float64 kept
    cache.save(img, patch, cam)
    got = cache.load(img.copy())
    assert got is not None
    np.testing.assert_array_equal(got[0], patch)
    np.testing.assert_array_equal(got[1], cam)
    assert got[0].dtype == np.float32 and got[1].dtype == np.float64
    changed = img.copy()
    changed[0, 0, 0] ^= 1
    assert cache.load(changed) is None
    assert cache.load(np.ascontiguousarray(img[:, ::-1])) is None


def test_broken_file_is_a_miss_and_made_again(classifier, tmp_path):
    root = str(tmp_path / 'cache')
    gen = PseudoLabelGenerator(*classifier, localization_cache=root)
    img = _images()[0]
    want = gen(img).soft
    path = gen.localization_cache.path(img)
    with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) // 2)
    again = PseudoLabelGenerator(*classifier, localization_cache=root)
    np.testing.assert_array_equal(again(img).soft, want)
    assert again.localization_cache.stats()['misses'] == 1
    assert again.localization_cache.load(img) is not None  # rewritten


def test_tool_reports_cache_and_keeps_labels(classifier, tmp_path,
                                             tiny_synthetic):
    from conftest import load_tool
    tool = load_tool('tools/generate_pseudo_labels.py')
    img_dir = str(tmp_path / 'imgs')
    shutil.copytree(osp.join(tiny_synthetic, 'images', 'train'), img_dir)
    cache = str(tmp_path / 'cache')
    common = ['--cfg-options', 'output.min_crack_pixels=1']
    plain = tool.main([*classifier, img_dir, str(tmp_path / 'plain'),
                       '--preset', 'ablation_otsu2', *common])
    assert 'localization_cache' not in plain
    first = tool.main([*classifier, img_dir, str(tmp_path / 'paper'),
                       '--localization-cache', cache, *common])
    assert first['localization_cache']['misses'] == 4
    second = tool.main([*classifier, img_dir, str(tmp_path / 'otsu2'),
                        '--preset', 'ablation_otsu2',
                        '--localization-cache', cache, *common])
    assert second['localization_cache']['hits'] == 4
    assert second['localization_cache']['misses'] == 0
    # the cache is not a setting: same settings as the uncached run
    assert second['settings'] == plain['settings']
    for name in os.listdir(img_dir):
        stem = osp.splitext(name)[0] + '.png'
        with open(tmp_path / 'plain' / stem, 'rb') as a, \
                open(tmp_path / 'otsu2' / stem, 'rb') as b:
            assert a.read() == b.read()
