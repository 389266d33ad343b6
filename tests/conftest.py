import glob
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED_DATASETS = osp.join(osp.dirname(REPO), 'shared', 'datasets')


def write_tiny_synthetic(root: str, seed: int, splits: dict) -> str:
    """Write 64x64 synthetic images, every one with a crack, into ``root``."""
    import dataclasses

    from mmcrack.datasets.synthetic import (
        SyntheticCrackConfig,
        write_synthetic_dataset,
    )
    cfg = dataclasses.replace(SyntheticCrackConfig(), height=64, width=64,
                              crack_free_prob=0.0, crack_length=(40, 80))
    write_synthetic_dataset(root, seed=seed, splits=splits, cfg=cfg)
    return root


@pytest.fixture(scope='session')
def tiny_synthetic(tmp_path_factory):
    """A tiny synthetic crack set (64x64): train 4, val 2, test 2."""
    return write_tiny_synthetic(str(tmp_path_factory.mktemp('synthetic')),
                                seed=1, splits=dict(train=4, val=2, test=2))


def run_tool(args, cwd=REPO, env=None, timeout=600):
    """Run ``python ARGS`` (or an executable) in the repo; return the result.

    Fails the test with the tool's output when it exits non-zero.
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env['PYTHONPATH'] = REPO + os.pathsep + full_env.get('PYTHONPATH', '')
    full_env.setdefault('PYTHON', sys.executable)  # for tools/dist_*.sh
    cmd = args if args[0].endswith('.sh') else [sys.executable] + list(args)
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f'{" ".join(cmd)} exited {proc.returncode}\n'
                    f'--- stdout ---\n{proc.stdout[-6000:]}\n'
                    f'--- stderr ---\n{proc.stderr[-6000:]}')
    return proc


UNET_DEMO_CONFIG = osp.join(
    REPO, 'configs/unet/unet-s5-d16_fcn_1xb4-400i_synthetic-256x256.py')


def tiny_train_options(data_root, max_iters=2):
    """--data-root/--cfg-options that shrink a segmentation config's run."""
    opts = [
        f'train_cfg.max_iters={max_iters}',
        f'train_cfg.val_interval={max_iters}',
        f'default_hooks.checkpoint.interval={max_iters}',
        'default_hooks.logger.interval=1',
        'param_scheduler.0.milestones=[1000]',
        'train_dataloader.batch_size=2',
    ]
    for loader in ('train', 'val', 'test'):
        opts += [
            f'{loader}_dataloader.num_workers=0',
            f'{loader}_dataloader.persistent_workers=False',
        ]
    return ['--data-root', data_root, '--cfg-options'] + opts


@pytest.fixture(scope='session')
def tiny_seg_checkpoint(tiny_synthetic, tmp_path_factory):
    """(config, checkpoint) of the U-Net demo trained 2 iterations."""
    work = str(tmp_path_factory.mktemp('tiny_seg'))
    run_tool(['tools/train.py', UNET_DEMO_CONFIG, '--work-dir', work] +
             tiny_train_options(tiny_synthetic))
    return UNET_DEMO_CONFIG, osp.join(work, 'iter_2.pth')


def make_tiny_classifier(tmp_path, depth=18, num_classes=2,
                         classes=('no_crack', 'crack')):
    """(config, checkpoint) of an untrained narrow ResNet crack-patch
    classifier (mmpretrain ImageClassifier) saved in ``tmp_path``."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    cfg = Config(
        dict(model=dict(
            type='ImageClassifier',
            backbone=dict(type='ResNet', depth=depth, base_channels=16,
                          stem_channels=16, out_indices=(3, )),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=num_classes,
                      in_channels=128 if depth < 50 else 512),
            data_preprocessor=dict(mean=[123.675, 116.28, 103.53],
                                   std=[58.395, 57.12, 57.375],
                                   to_rgb=True))))
    cfg_path = str(tmp_path / f'cls_{depth}_{num_classes}.py')
    cfg.dump(cfg_path)
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt = str(tmp_path / f'cls_{depth}_{num_classes}.pth')
    meta = dict(dataset_meta=dict(classes=classes)) if classes else {}
    torch.save(dict(state_dict=model.state_dict(), meta=meta), ckpt)
    return cfg_path, ckpt


def load_tool(relpath: str):
    """The module of a script, e.g. ``load_tool('tools/run_pipeline.py')``
    (to call its ``main(argv)`` or read its constants in-process)."""
    import importlib.util
    name = '_tool_' + relpath.replace('/', '_').replace('.py', '')
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO,
                                                                 relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FileAccessLog:
    """Paths this process opens or lists while :func:`record_file_access`
    is active (Python's audit events ``open``, ``os.listdir``,
    ``os.scandir``, through the pipeline audit's own hook; files opened by
    C code such as OpenCV are not seen, so a test pairs this with files
    that would fail to decode)."""
    active = None

    def __init__(self):
        self.paths = []

    def under(self, folder_name: str):
        """The recorded paths that have ``/<folder_name>/`` in them or end
        with it."""
        sep = os.sep
        return [p for p in self.paths
                if f'{sep}{folder_name}{sep}' in p
                or p.rstrip(sep).endswith(f'{sep}{folder_name}')]


def _record(path):
    if FileAccessLog.active is not None:
        FileAccessLog.active.paths.append(path)


sys.addaudithook(load_tool('mmcrack/apis/stage_audit/sitecustomize.py')
                 .make_audit_hook((), _record))


class record_file_access:
    """``with record_file_access() as log: ...`` records the file accesses
    of the block into ``log.paths``."""

    def __enter__(self):
        FileAccessLog.active = FileAccessLog()
        return FileAccessLog.active

    def __exit__(self, *exc):
        FileAccessLog.active = None
        return False


def write_fake_split_set(root: str, splits: dict) -> None:
    """``root/{images,masks}/<split>/<stem>.{jpg,png}`` files whose text is
    ``images<stem>`` / ``masks<stem>`` (layout tests, no decoding)."""
    for split, stems in splits.items():
        for kind, ext in (('images', '.jpg'), ('masks', '.png')):
            os.makedirs(osp.join(root, kind, split), exist_ok=True)
            for stem in stems:
                with open(osp.join(root, kind, split, stem + ext), 'w') as f:
                    f.write(kind + stem)


#: real images of ../shared/datasets (empty when the folder is absent)
REAL_IMAGES = sorted(
    glob.glob(osp.join(SHARED_DATASETS, '*', 'images', '*',
                                     '*.jpg')))
needs_real_images = pytest.mark.skipif(
    not REAL_IMAGES, reason='no images under shared/datasets')


@pytest.fixture(scope='session')
def classifier(tmp_path_factory):
    """(config, checkpoint) of an untrained narrow ResNet-18 crack-patch
    classifier (:func:`make_tiny_classifier`), shared by the generator
    tests; torch runs single-threaded from then on (the tests compare
    outputs bit for bit)."""
    import torch
    torch.set_num_threads(1)
    return make_tiny_classifier(tmp_path_factory.mktemp('classifier'))


@pytest.fixture
def one_thread():
    """torch single-threaded for the test (restored after)."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def real_gray_crops(num: int, size: int, seed: int = 0):
    """``num`` random ``size`` px crops of bilaterally filtered grey real
    images (uint8 (num, size, size)), reproducible by ``seed``."""
    import cv2
    import numpy as np

    from mmcrack.pseudo_label.thresholding import bilateral_filter
    rng = np.random.default_rng(seed)
    crops = []
    for path in rng.choice(REAL_IMAGES, size=num):
        img = cv2.imread(path)[:, :, ::-1]
        gray = bilateral_filter(img, d=int(rng.choice([2, 5])))
        y = rng.integers(0, gray.shape[0] - size + 1)
        x = rng.integers(0, gray.shape[1] - size + 1)
        crops.append(gray[y:y + size, x:x + size])
    return np.stack(crops)
