"""tools/train.py and tools/test.py through the Runner on a tiny synthetic set:
train, --resume, load_from, test, and a 2-process gloo run (torchrun)."""
import os.path as osp
import re
import socket

import pytest
from conftest import REPO, run_tool, tiny_train_options

CONFIG = osp.join(REPO,
                  'configs/unet/unet-s5-d16_fcn_1xb4-400i_synthetic-256x256.py')


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_train_resume_load_from_and_test(tiny_synthetic, tmp_path):
    work = str(tmp_path / 'work')
    run_tool(['tools/train.py', CONFIG, '--work-dir', work, '--device',
              'cpu'] + tiny_train_options(tiny_synthetic, 2))
    assert osp.isfile(osp.join(work, 'iter_2.pth'))

    # --resume (latest checkpoint) continues at iteration 3: needs the
    # weights_only fix for mmengine checkpoints on torch >= 2.6
    out = run_tool(['tools/train.py', CONFIG, '--work-dir', work, '--resume'] +
                   tiny_train_options(tiny_synthetic, 4))
    log = out.stdout + out.stderr
    assert 'resumed epoch: 0, iter: 2' in log
    assert 'Iter(train) [3/4]' in log and 'Iter(train) [1/4]' not in log
    assert osp.isfile(osp.join(work, 'iter_4.pth'))

    # load_from: weights only, training restarts at iteration 1
    work2 = str(tmp_path / 'work2')
    out = run_tool(['tools/train.py', CONFIG, '--work-dir', work2] +
                   tiny_train_options(tiny_synthetic, 2) +
                   [f'load_from={osp.join(work, "iter_4.pth")}'])
    log = out.stdout + out.stderr
    assert 'Load checkpoint from' in log and 'Iter(train) [1/2]' in log

    out = run_tool(['tools/test.py', CONFIG, osp.join(work, 'iter_4.pth'),
                    '--work-dir', str(tmp_path / 'test')] +
                   tiny_train_options(tiny_synthetic, 2))
    log = out.stdout + out.stderr
    match = re.search(r'Iter\(test\) \[2/2\].*ODS: ([0-9.]+)', log)
    assert match, log[-3000:]
    assert 0.0 <= float(match.group(1)) <= 1.0


@pytest.mark.slow
@pytest.mark.dist
def test_two_process_gloo_training_with_syncbn(tiny_synthetic, tmp_path):
    """torchrun, 2 CPU processes: gloo init, CPU DDP wrapper, SyncBN -> BN."""
    work = str(tmp_path / 'dist')
    out = run_tool(
        ['tools/dist_train.sh', CONFIG, '2', '--work-dir', work] +
        tiny_train_options(tiny_synthetic, 2) + [
            'model.backbone.norm_cfg.type=SyncBN',
            'model.decode_head.norm_cfg.type=SyncBN'
        ],
        env=dict(PORT=str(_free_port()), OMP_NUM_THREADS='1'))
    log = out.stdout + out.stderr
    assert 'Distributed training: True' in log
    assert re.search(r'world_size:\s*2|GPU number: 2', log), log[-3000:]
    assert 'Iter(train) [2/2]' in log
    assert osp.isfile(osp.join(work, 'iter_2.pth'))
