"""tools/dist_train.sh and tools/dist_test.sh with 2 CPU processes (gloo):
the crack-patch classifier trains and tests, and a segmentation checkpoint
gets the same ODS / OIS / AP from 2 processes as from 1."""
import os.path as osp
import re
import sys

import pytest
from conftest import REPO, run_tool, write_tiny_synthetic

sys.path.insert(0, osp.dirname(__file__))
from hardening_utils import free_port, runner_metrics  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.dist]

SEG_CONFIG = osp.join(
    REPO, 'configs/unet/unet-s5-d16_fcn_1xb4-400i_synthetic-256x256.py')


def _pipeline_classifier():
    """The pipeline's CPU classifier config and its --smoke options (1
    epoch, 32 px patches, no worker processes)."""
    from conftest import load_tool
    module = load_tool('tools/run_pipeline.py')
    return osp.join(REPO, module.CLS_CONFIG), list(module.SMOKE_CLS)


def _dist_env():
    return dict(PORT=str(free_port()), OMP_NUM_THREADS='1')


def test_dist_train_classifier_then_test(tiny_synthetic, tmp_path):
    config, smoke = _pipeline_classifier()
    opts = ['--data-root', tiny_synthetic, '--cfg-options'] + smoke
    work = str(tmp_path / 'cls')
    out = run_tool(['tools/dist_train.sh', config, '2', '--work-dir',
                    work] + opts, env=_dist_env())
    log = out.stdout + out.stderr
    assert 'Distributed training: True' in log
    assert re.search(r'world_size:\s*2|GPU number: 2', log), log[-3000:]
    # 4 training images x 4 patches (32 px, stride 32) x 8 dihedral = 128
    # samples, batch 16: 8 iterations in one process, 4 in each of two
    assert 'Epoch(train) [1][4/4]' in log, log[-3000:]
    ckpt = osp.join(work, 'epoch_1.pth')
    assert osp.isfile(ckpt)

    test_dir = str(tmp_path / 'cls_test')
    out = run_tool(['tools/test.py', config, ckpt, '--work-dir',
                    test_dir] + opts, env=dict(OMP_NUM_THREADS='1'))
    metrics = runner_metrics(test_dir)
    for key in ('precision', 'recall', 'f1', 'accuracy'):
        assert 0.0 <= metrics[f'patch/{key}'] <= 1.0, key
    # 2 test images x 4 patches, no augmentation
    assert '8 patches' in out.stdout + out.stderr


@pytest.fixture(scope='module')
def odd_test_root(tmp_path_factory):
    """3 test images: the 2-process sampler pads rank 1 with a duplicate."""
    return write_tiny_synthetic(str(tmp_path_factory.mktemp('odd')), seed=2,
                                splits=dict(test=3))


def test_dist_test_metrics_equal_single_process(tiny_seg_checkpoint,
                                                odd_test_root, tmp_path):
    _, ckpt = tiny_seg_checkpoint
    opts = ['--data-root', odd_test_root, '--cfg-options',
            'test_dataloader.num_workers=0',
            'test_dataloader.persistent_workers=False']
    single = str(tmp_path / 'single')
    run_tool(['tools/test.py', SEG_CONFIG, ckpt, '--work-dir', single] +
             opts, env=dict(OMP_NUM_THREADS='1'))
    dist = str(tmp_path / 'dist')
    out = run_tool(['tools/dist_test.sh', SEG_CONFIG, ckpt, '2',
                    '--work-dir', dist] + opts, env=_dist_env())
    log = out.stdout + out.stderr
    assert re.search(r'world_size:\s*2|GPU number: 2', log), log[-3000:]
    # each rank tested 2 images (rank 1: image 3 and a padding duplicate)
    assert 'Iter(test) [2/2]' in log and 'Iter(test) [3/3]' not in log
    a, b = runner_metrics(single), runner_metrics(dist)
    for key in ('ODS', 'OIS', 'AP', 'ODS_thr'):
        assert abs(a[key] - b[key]) <= 1e-9, (key, a[key], b[key])
        assert 0.0 <= a[key] <= 1.0
