"""PseudoLabelHook with a stand-in generator: labels written, dataset
redirected, keep rule, cache reuse and invalidation, resume, 2 processes."""
import glob
import os
import os.path as osp
import shutil
import sys

import cv2
import numpy as np
import pytest
from conftest import REPO, run_tool
from mmengine.config import Config

sys.path.insert(0, osp.dirname(__file__))
import fake_generator  # noqa: E402,F401  (registers FakeCrackGenerator)

CONFIG = osp.join(REPO,
                  'configs/unet/unet-s5-d16_fcn_1xb4-400i_synthetic-256x256.py')


@pytest.fixture
def image_only_root(tiny_synthetic, tmp_path):
    """Training images without any mask folder, plus one crack-free image."""
    root = tmp_path / 'wsv'
    shutil.copytree(osp.join(tiny_synthetic, 'images', 'train'),
                    root / 'images' / 'train')
    cv2.imwrite(str(root / 'images/train/bright.png'),
                np.full((64, 64, 3), 200, np.uint8))
    ckpt = tmp_path / 'classifier.pth'
    ckpt.write_bytes(b'weights v1')
    return root, ckpt


def _cfg(root, ckpt, work_dir, calls_dir, threshold=90, extra=(),
         min_crack_pixels=5):
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = str(work_dir)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1,
                         val_interval=100)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    cfg.default_hooks.logger.interval = 1
    loader = cfg.train_dataloader
    loader.update(batch_size=2, num_workers=0, persistent_workers=False)
    loader.dataset.update(data_root=str(root),
                          data_prefix=dict(img_path='images/train'),
                          allow_missing_masks=True)
    cfg.custom_hooks = [
        dict(type='PseudoLabelHook',
             generator=dict(type='FakeCrackGenerator',
                            checkpoint_path=str(ckpt),
                            calls_dir=str(calls_dir), threshold=threshold,
                            min_crack_pixels=min_crack_pixels),
             extra_img_dirs=list(extra))
    ]
    return cfg


def _train(cfg):
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def _hook_stats(cfg, generator, cls_cfg, cls_ckpt):
    """Train ``cfg`` with a PseudoLabelHook of ``generator`` (a real
    generator dict) and the classifier; the hook's stats."""
    cfg.custom_hooks = [
        dict(type='PseudoLabelHook', generator=generator,
             classifier_config=cls_cfg, classifier_checkpoint=cls_ckpt)
    ]
    runner = _train(cfg)
    return [h for h in runner.hooks
            if type(h).__name__ == 'PseudoLabelHook'][0].stats


def _calls(calls_dir):
    return len(glob.glob(osp.join(str(calls_dir), '*')))


def test_labels_written_dataset_redirected_keep_rule(image_only_root,
                                                     tmp_path):
    root, ckpt = image_only_root
    runner = _train(_cfg(root, ckpt, tmp_path / 'w', tmp_path / 'calls'))
    hook = [h for h in runner.hooks if type(h).__name__ == 'PseudoLabelHook']
    stats = hook[0].stats
    assert stats['images'] == 5 and stats['generated'] == 5
    assert _calls(tmp_path / 'calls') == 5
    # the crack-free image fails the keep rule, the cracked ones pass
    assert stats['dropped'] == 1 and stats['kept'] == 4
    ds = runner.train_loop.dataloader.dataset
    assert len(ds) == 4
    names = sorted(osp.basename(ds.get_data_info(i)['img_path'])
                   for i in range(len(ds)))
    assert 'bright.png' not in names
    # masks are the pseudo-labels: the stored file is the generator's output
    # and the training sample's ground truth is read from it
    label_dir = stats['label_dir']
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert info['seg_map_path'].startswith(label_dir)
        img = cv2.cvtColor(cv2.imread(info['img_path']), cv2.COLOR_BGR2RGB)
        expected = (img.mean(axis=2) < 90).astype(np.uint8) * 255
        stored = cv2.imread(info['seg_map_path'], cv2.IMREAD_GRAYSCALE)
        np.testing.assert_array_equal(stored, expected)
    gt = ds[0]['data_samples'].gt_sem_seg.data.numpy()[0]
    first = cv2.imread(ds.get_data_info(0)['seg_map_path'],
                       cv2.IMREAD_GRAYSCALE)
    assert gt.sum() == (first > 0).sum() > 0  # flips keep the count
    assert not glob.glob(osp.join(label_dir, '**', '.tmp-*'), recursive=True)
    manifest = osp.join(str(tmp_path / 'w'), 'pseudo_labels',
                        'manifest.json')
    assert osp.isfile(manifest)


def test_cache_reuse_invalidation_and_resume(image_only_root, tmp_path):
    root, ckpt = image_only_root
    out = tmp_path / 'labels'

    def run(calls, **kw):
        cfg = _cfg(root, ckpt, tmp_path / 'w', calls, **kw)
        cfg.custom_hooks[0]['out_dir'] = str(out)
        return [h for h in _train(cfg).hooks
                if type(h).__name__ == 'PseudoLabelHook'][0].stats

    first = run(tmp_path / 'c1')
    assert _calls(tmp_path / 'c1') == 5

    second = run(tmp_path / 'c2')  # same key: nothing generated
    assert _calls(tmp_path / 'c2') == 0
    assert second['key'] == first['key'] and second['reused'] == 5

    # an interrupted run: two labels missing, a temp file left behind
    label_dir = first['label_dir']
    os.remove(osp.join(label_dir, 'train', 'train_0001.png'))
    os.remove(osp.join(label_dir, 'train', 'bright.png'))
    open(osp.join(label_dir, 'train', '.tmp-xyz.png'), 'wb').close()
    third = run(tmp_path / 'c3')
    assert _calls(tmp_path / 'c3') == 2 and third['generated'] == 2
    assert third['kept'] == first['kept']

    # a changed setting: new key, everything regenerated in a new folder
    fourth = run(tmp_path / 'c4', threshold=80)
    assert fourth['key'] != first['key']
    assert _calls(tmp_path / 'c4') == 5
    assert fourth['label_dir'] != label_dir

    # a changed checkpoint: new key too
    ckpt.write_bytes(b'weights v2')
    fifth = run(tmp_path / 'c5', threshold=80)
    assert fifth['key'] != fourth['key'] and _calls(tmp_path / 'c5') == 5


def test_extra_unlabelled_images_join_training(image_only_root, tiny_synthetic,
                                               tmp_path):
    root, ckpt = image_only_root
    extra = osp.join(tiny_synthetic, 'images', 'test')
    runner = _train(
        _cfg(root, ckpt, tmp_path / 'w', tmp_path / 'calls', extra=[extra]))
    stats = [h for h in runner.hooks
             if type(h).__name__ == 'PseudoLabelHook'][0].stats
    assert stats['images'] == 7 and stats['kept'] == 6
    assert len(runner.train_loop.dataloader.dataset) == 6


def test_known_negatives_train_with_empty_masks(image_only_root, tmp_path):
    root, ckpt = image_only_root
    negatives = tmp_path / 'negatives'
    negatives.mkdir()
    for i in range(2):  # dark: the stand-in generator would call it crack
        cv2.imwrite(str(negatives / f'n{i}.png'),
                    np.full((64, 48, 3), 30, np.uint8))
    cfg = _cfg(root, ckpt, tmp_path / 'w', tmp_path / 'calls')
    cfg.custom_hooks[0]['negative_img_dirs'] = [str(negatives)]
    runner = _train(cfg)
    stats = [h for h in runner.hooks
             if type(h).__name__ == 'PseudoLabelHook'][0].stats
    assert stats['negatives'] == 2 and stats['kept'] == 4
    assert _calls(tmp_path / 'calls') == 5  # negatives are not labelled
    ds = runner.train_loop.dataloader.dataset
    assert len(ds) == 6
    infos = [d.get_data_info(i) for d in ds.datasets for i in range(len(d))]
    neg = [x for x in infos if osp.dirname(x['img_path']) == str(negatives)]
    assert len(neg) == 2
    for info in neg:
        label = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
        assert label.shape == (64, 48) and label.max() == 0


def test_without_hook_missing_masks_fail_clearly(image_only_root, tmp_path):
    root, ckpt = image_only_root
    cfg = _cfg(root, ckpt, tmp_path / 'w', tmp_path / 'calls')
    cfg.custom_hooks = []
    with pytest.raises(ValueError, match='no mask.*PseudoLabelHook'):
        _train(cfg)


@pytest.mark.slow
@pytest.mark.dist
def test_two_processes_label_each_image_once(image_only_root, tmp_path):
    root, ckpt = image_only_root
    calls = tmp_path / 'calls'
    cfg = _cfg(root, ckpt, tmp_path / 'w', calls)
    cfg.custom_imports = dict(imports=['mmcrack', 'fake_generator'],
                              allow_failed_imports=False)
    cfg_path = str(tmp_path / 'wsv_cfg.py')
    cfg.dump(cfg_path)
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    out = run_tool(['tools/dist_train.sh', cfg_path, '2'],
                   env=dict(PORT=str(port), OMP_NUM_THREADS='1',
                            PYTHONPATH=osp.dirname(__file__)))
    log = out.stdout + out.stderr
    files = os.listdir(calls)
    assert len(files) == 5  # every image exactly once ...
    assert {f.rsplit('.', 1)[1] for f in files} == {'0', '1'}  # ... shared
    assert log.count('PseudoLabelHook: kept 4, dropped 1') >= 1
    assert 'Iter(train) [1/1]' in log


def test_keep_rule_comes_from_the_generator(image_only_root, tmp_path):
    """The generator's output.min_crack_pixels decides what trains: with 0,
    even the crack-free image is kept; the hook has no rule of its own."""
    root, ckpt = image_only_root
    runner = _train(_cfg(root, ckpt, tmp_path / 'w', tmp_path / 'calls',
                         min_crack_pixels=0))
    stats = [h for h in runner.hooks
             if type(h).__name__ == 'PseudoLabelHook'][0].stats
    assert stats['kept'] == 5 and stats['dropped'] == 0
    assert stats['min_crack_pixels'] == 0
    assert len(runner.train_loop.dataloader.dataset) == 5


def _tiny_crack_root(tmp_path):
    """Images whose pseudo-labels have fewer than 100 crack pixels."""
    root = tmp_path / 'small'
    (root / 'images' / 'train').mkdir(parents=True)
    for i, side in enumerate((3, 5, 8)):  # 9, 25, 64 crack pixels
        img = np.full((64, 64, 3), 200, np.uint8)
        img[20:20 + side, 30:30 + side] = 20
        cv2.imwrite(str(root / 'images' / 'train' / f'{i}.png'), img)
    return root


@pytest.mark.slow
def test_with_the_real_generator_the_preset_keep_rule_holds(tmp_path):
    """The paper generator with output.min_crack_pixels=1 through the hook
    and through tools/generate_pseudo_labels.py: both keep the same images,
    including labels under 100 crack pixels (the paper's rule, not
    applied here), and store the same labels."""
    import json

    from conftest import make_tiny_classifier
    root = _tiny_crack_root(tmp_path)
    cls_cfg, cls_ckpt = make_tiny_classifier(tmp_path)
    cfg = _cfg(root, tmp_path / 'unused.pth', tmp_path / 'w', tmp_path / 'c')
    preset = Config.fromfile(
        osp.join(REPO, 'configs/_base_/pseudo_label/paper.py'))
    generator = preset.pseudo_label_generator.to_dict()
    # an untrained classifier localises nothing: keep the whole image so
    # that the thresholding branch alone decides the label
    generator['fusion']['threshold'] = -1.0
    generator['fusion']['erosion_iters'] = 0
    generator['output']['min_crack_pixels'] = 1
    stats = _hook_stats(cfg, generator, cls_cfg, cls_ckpt)
    label_dir = osp.join(stats['label_dir'], 'train')
    counts = {f: int((cv2.imread(osp.join(label_dir, f), 0) > 0).sum())
              for f in sorted(os.listdir(label_dir))}
    assert all(0 < n < 100 for n in counts.values()), counts
    assert stats['kept'] == 3 and stats['dropped'] == 0
    # the CLI with the same settings: the same labels, the same keep list
    out = tmp_path / 'cli'
    run_tool(['tools/generate_pseudo_labels.py', cls_cfg, cls_ckpt,
              str(root / 'images' / 'train'), str(out), '--cfg-options',
              'fusion.threshold=-1.0', 'fusion.erosion_iters=0',
              'output.min_crack_pixels=1'])
    summary = json.loads((out / 'summary.json').read_text())
    assert sorted(summary['kept']) == ['0', '1', '2']
    for name in counts:
        np.testing.assert_array_equal(cv2.imread(str(out / name), 0),
                                      cv2.imread(osp.join(label_dir, name),
                                                 0))


def test_soft_output_of_a_named_preset_is_refused_at_build(image_only_root,
                                                           tmp_path):
    """A generator whose soft output comes from its preset (not from the
    config dict the hook sees) is refused when it is built."""
    root, ckpt = image_only_root
    cfg = _cfg(root, ckpt, tmp_path / 'w', tmp_path / 'calls')
    cfg.custom_hooks[0]['generator']['binarize'] = False
    with pytest.raises(ValueError, match='output.binarize=True'):
        _train(cfg)


def test_soft_output_preset_is_refused():
    """The published-code preset writes soft maps; the hook trains on
    binary labels and says how to get them."""
    from mmcrack.engine.hooks import PseudoLabelHook
    preset = Config.fromfile(
        osp.join(REPO, 'configs/_base_/pseudo_label/published_code.py'))
    with pytest.raises(ValueError, match='output.binarize=True'):
        PseudoLabelHook(generator=preset.pseudo_label_generator.to_dict())


def test_missing_classifier_checkpoint_is_named(image_only_root, tmp_path):
    root, _ = image_only_root
    cfg = _cfg(root, tmp_path / 'x.pth', tmp_path / 'w', tmp_path / 'c')
    cfg.custom_hooks = [dict(type='PseudoLabelHook',
                             generator=dict(type='PseudoLabelGenerator'),
                             classifier_config='c.py',
                             classifier_checkpoint=str(tmp_path /
                                                       'nope.pth'))]
    with pytest.raises(FileNotFoundError, match='nope.pth.*Train the'):
        _train(cfg)


@pytest.mark.parametrize('loop', ['iter', 'epoch'])
def test_loop_length_follows_the_kept_images(image_only_root, tmp_path, loop):
    root, ckpt = image_only_root
    cfg = _cfg(root, ckpt, tmp_path / 'w', tmp_path / 'calls')
    if loop == 'epoch':
        cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2,
                             val_interval=100)
        cfg.train_dataloader.sampler = dict(type='DefaultSampler',
                                            shuffle=True)
        cfg.param_scheduler = []
        cfg.log_processor = dict(by_epoch=True)
    runner = _train(cfg)
    # 4 kept images, batch 2: 2 iterations per epoch
    expected = 1 if loop == 'iter' else 2 * 2
    assert runner.train_loop.max_iters == expected
    assert runner.iter == expected


def test_localization_cache_through_the_hook_keeps_labels_and_key(tmp_path):
    """``pseudo_label_generator.localization_cache`` reaches the generator
    the hook builds: the classifier maps are kept there, and the labels and
    the hook's cache key equal those of a run without it."""
    from conftest import make_tiny_classifier
    root = _tiny_crack_root(tmp_path)
    cls_cfg, cls_ckpt = make_tiny_classifier(tmp_path)
    preset = Config.fromfile(
        osp.join(REPO, 'configs/_base_/pseudo_label/paper.py'))
    base = preset.pseudo_label_generator.to_dict()
    base['fusion']['threshold'] = -1.0
    base['output']['min_crack_pixels'] = 1
    cache = tmp_path / 'maps'
    label_dirs = []
    for name, generator in (('plain', base),
                            ('cached', dict(base,
                                            localization_cache=str(cache)))):
        cfg = _cfg(root, tmp_path / 'unused.pth', tmp_path / name,
                   tmp_path / 'c')
        stats = _hook_stats(cfg, generator, cls_cfg, cls_ckpt)
        label_dirs.append(osp.join(stats['label_dir'], 'train'))
    assert osp.basename(osp.dirname(label_dirs[0])) == \
        osp.basename(osp.dirname(label_dirs[1]))  # the same key
    assert len(glob.glob(osp.join(str(cache), '*', '*.npz'))) == 3
    for name in sorted(os.listdir(label_dirs[0])):
        np.testing.assert_array_equal(
            cv2.imread(osp.join(label_dirs[0], name), 0),
            cv2.imread(osp.join(label_dirs[1], name), 0))
