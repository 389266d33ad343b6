"""tools/train.py killed with SIGKILL, then rerun with --resume.

On CPU, with one thread, the resumed run ends with the same weights and
validation metrics, bit for bit, as an uninterrupted one -- dropout
included: mmengine checkpoints the optimizer and scheduler, re-seeds and
replays the data order, and mmcrack's ``RNGStateHook`` (registered by
tools/train.py) checkpoints torch's generator, which mmengine does not
(without it the dropout masks differ after a resume; docs/determinism.md).
"""
import os
import os.path as osp
import shutil
import sys

import pytest
import torch
from conftest import UNET_DEMO_CONFIG, run_tool, tiny_train_options

sys.path.insert(0, osp.dirname(__file__))
from hardening_utils import (  # noqa: E402
    kill_group,
    start_tool,
    tool_env,
    val_metrics,
    wait_for,
)

MAX_ITERS = 10  # ~0.15 s each: the kill lands well before the end


def _args(data_root, work_dir):
    return (['tools/train.py', UNET_DEMO_CONFIG, '--work-dir', work_dir,
             '--device', 'cpu'] + tiny_train_options(data_root, MAX_ITERS) +
            ['default_hooks.checkpoint.interval=1',
             'model.decode_head.dropout_ratio=0.5'])  # draws torch RNG


@pytest.fixture(scope='module')
def uninterrupted(tiny_synthetic, tmp_path_factory):
    work = str(tmp_path_factory.mktemp('train_ref') / 'work')
    run_tool(_args(tiny_synthetic, work), env=tool_env())
    return work


def _state(path):
    return torch.load(path, map_location='cpu', weights_only=False)


def _assert_same_result(work, ref):
    a = _state(osp.join(work, f'iter_{MAX_ITERS}.pth'))
    b = _state(osp.join(ref, f'iter_{MAX_ITERS}.pth'))
    assert a['meta']['iter'] == b['meta']['iter'] == MAX_ITERS
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][key]), key
    got, want = val_metrics(work)[-1], val_metrics(ref)[-1]
    for key in ('ODS', 'OIS', 'AP', 'ODS_thr'):
        assert got[key] == want[key], key


@pytest.mark.slow
def test_sigkill_after_first_checkpoint_then_resume(uninterrupted,
                                                    tiny_synthetic, tmp_path):
    work = str(tmp_path / 'work')
    log = str(tmp_path / 'killed.log')
    proc = start_tool(_args(tiny_synthetic, work), log)
    wait_for(lambda: osp.isfile(osp.join(work, 'iter_1.pth')), proc, log)
    kill_group(proc)
    assert proc.returncode == -9
    assert not osp.exists(osp.join(work, f'iter_{MAX_ITERS}.pth'))
    # checkpoints are renamed into place: every final name is whole
    for name in os.listdir(work):
        if name.endswith('.pth') and not name.startswith('.'):
            assert _state(osp.join(work, name))['meta']['iter'] >= 1

    out = run_tool(_args(tiny_synthetic, work) + ['--resume'],
                   env=tool_env())
    log = out.stdout + out.stderr
    resumed = [int(line.rsplit('iter:', 1)[1]) for line in log.splitlines()
               if 'resumed epoch: 0, iter:' in line]
    assert len(resumed) == 1 and 1 <= resumed[0] < MAX_ITERS, log[-3000:]
    assert f'Iter(train) [{MAX_ITERS}/{MAX_ITERS}]' in log
    assert 'Iter(train) [1/' not in log  # not restarted from scratch
    _assert_same_result(work, uninterrupted)


@pytest.mark.slow
def test_resume_skips_a_checkpoint_cut_short(uninterrupted, tiny_synthetic,
                                             tmp_path):
    """What a kill while saving leaves (with mmengine's own, non-atomic
    writer): iter_3.pth cut in half, the marker naming it. --resume takes
    iter_2.pth, the newest whole one; mmengine alone would fail to load."""
    from mmcrack.utils.checkpoints import latest_complete_checkpoint
    work = str(tmp_path / 'work')
    os.makedirs(work)
    for i in (1, 2):
        shutil.copy(osp.join(uninterrupted, f'iter_{i}.pth'), work)
    with open(osp.join(uninterrupted, 'iter_3.pth'), 'rb') as f:
        data = f.read()
    with open(osp.join(work, 'iter_3.pth'), 'wb') as f:
        f.write(data[:len(data) // 2])
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work, 'iter_3.pth'))
    assert latest_complete_checkpoint(work) == osp.join(work, 'iter_2.pth')

    out = run_tool(_args(tiny_synthetic, work) + ['--resume'],
                   env=tool_env())
    log = out.stdout + out.stderr
    assert 'resumed epoch: 0, iter: 2' in log
    assert f'Iter(train) [{MAX_ITERS}/{MAX_ITERS}]' in log
    _assert_same_result(work, uninterrupted)
