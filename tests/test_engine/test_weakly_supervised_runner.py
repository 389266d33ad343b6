"""WeaklySupervisedRunner: the shipped weakly-supervised configs become
mask-free (images-only training set, no validation, hook settings from the
top-level variables), and a training run reads no mask file."""
import os
import os.path as osp
import shutil
import sys

import pytest
from conftest import REPO, record_file_access
from mmengine.config import Config

import mmcrack  # noqa: F401
from mmcrack.engine import prepare_weakly_supervised_cfg

sys.path.insert(0, osp.dirname(__file__))
import fake_generator  # noqa: E402,F401  (registers FakeCrackGenerator)

WSV_CONFIG = osp.join(
    REPO, 'configs/wsv/unet-s5-d16_fcn_1xb4-400i_synthetic-256x256_wsv.py')
WSV_CONFIGS = sorted(
    osp.join(REPO, 'configs', 'wsv', f)
    for f in os.listdir(osp.join(REPO, 'configs', 'wsv')))


@pytest.mark.parametrize('path', WSV_CONFIGS,
                         ids=[osp.basename(p) for p in WSV_CONFIGS])
def test_every_wsv_config_is_mask_free(path):
    cfg = Config.fromfile(path)
    assert cfg.runner_type == 'WeaklySupervisedRunner'
    prepare_weakly_supervised_cfg(cfg)
    ds = cfg.train_dataloader.dataset
    assert 'seg_map_path' not in ds.data_prefix
    assert ds.allow_missing_masks is True
    assert cfg.val_dataloader is None and cfg.val_cfg is None
    assert cfg.val_evaluator is None
    assert cfg.default_hooks.checkpoint.get('save_best') is None
    hook = cfg.custom_hooks[0]
    assert hook.type == 'PseudoLabelHook'
    assert hook.classifier_config == cfg.classifier_config
    assert hook.classifier_checkpoint == cfg.classifier_checkpoint
    assert hook.generator == cfg.pseudo_label_generator
    # the test split keeps its masks (scoring after training)
    assert 'seg_map_path' in cfg.test_dataloader.dataset.data_prefix


def test_leaf_variables_and_explicit_hook_values():
    cfg = Config.fromfile(WSV_CONFIG)
    cfg.merge_from_dict({'classifier_checkpoint': 'mine.pth',
                         'pseudo_label_generator.output.threshold': 0.2})
    prepare_weakly_supervised_cfg(cfg)
    hook = cfg.custom_hooks[0]
    assert hook.classifier_checkpoint == 'mine.pth'
    assert hook.generator.output.threshold == 0.2
    assert hook.generator.output.min_crack_pixels == 100  # the preset's
    explicit = Config.fromfile(WSV_CONFIG)
    explicit.custom_hooks[0]['classifier_checkpoint'] = 'hook.pth'
    prepare_weakly_supervised_cfg(explicit)
    assert explicit.custom_hooks[0].classifier_checkpoint == 'hook.pth'


def _poisoned_root(tiny_synthetic, tmp_path):
    """The tiny synthetic set with every mask of train and val replaced by
    bytes that no decoder accepts: a run that read one would fail."""
    root = tmp_path / 'data'
    shutil.copytree(tiny_synthetic, root)
    for split in ('train', 'val'):
        for name in os.listdir(root / 'masks' / split):
            (root / 'masks' / split / name).write_bytes(b'not a png')
    return root


def test_training_reads_no_mask(tiny_synthetic, tmp_path):
    from mmcrack.utils.launch import build_runner
    root = _poisoned_root(tiny_synthetic, tmp_path)
    ckpt = tmp_path / 'classifier.pth'
    ckpt.write_bytes(b'weights')
    cfg = Config.fromfile(WSV_CONFIG)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.classifier_checkpoint = str(ckpt)
    cfg.pseudo_label_generator = dict(
        type='FakeCrackGenerator', calls_dir=str(tmp_path / 'calls'),
        min_crack_pixels=1)
    cfg.train_cfg.update(max_iters=2, val_interval=1)
    cfg.default_hooks.checkpoint.interval = 2
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].update(num_workers=0, persistent_workers=False)
        cfg[key].dataset.data_root = str(root)
    cfg.train_dataloader.batch_size = 2
    runner = build_runner(cfg)
    with record_file_access() as log:
        runner.train()
    assert runner.iter == 2 and runner.val_loop is None
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_2.pth'))
    assert not log.under('masks'), log.under('masks')[:5]
    # the log sees the files a run opens: the pseudo-labels it trains on
    assert any('pseudo_labels' in p for p in log.paths)


def test_training_without_the_hook_is_refused(tiny_synthetic, tmp_path):
    from mmcrack.utils.launch import build_runner
    cfg = Config.fromfile(WSV_CONFIG)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.custom_hooks = []
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.data_root = tiny_synthetic
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = tiny_synthetic
    with pytest.raises(RuntimeError, match='no PseudoLabelHook'):
        build_runner(cfg).train()
