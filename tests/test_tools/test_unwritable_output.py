"""An output folder that cannot be written: each tool stops at once, before
loading a model or reading inputs, with one line naming the folder (no
traceback)."""
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile

import pytest
from conftest import REPO, UNET_DEMO_CONFIG, make_tiny_classifier

sys.path.insert(0, osp.dirname(__file__))
from hardening_utils import tool_env  # noqa: E402

CAPS = '-dac_override,-dac_read_search'


@pytest.fixture(scope='module')
def unprivileged():
    """Command prefix under which a chmod 0o500 folder refuses writes.

    Root ignores permission bits (CAP_DAC_OVERRIDE); as root the tools run
    under ``setpriv`` without that capability (still uid 0, so they read
    the root-owned checkout and interpreter). Skips when that is not
    possible.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which('setpriv')
    if setpriv is None:
        pytest.skip('running as root, where chmod does not stop writes, '
                    'and setpriv (to drop CAP_DAC_OVERRIDE) is missing')
    prefix = [setpriv, f'--bounding-set={CAPS}', f'--inh-caps={CAPS}']
    probe = tempfile.mkdtemp()
    try:
        os.chmod(probe, 0o500)
        runs = subprocess.run(prefix + ['true']).returncode == 0
        writes = subprocess.run(
            prefix + ['touch', osp.join(probe, 'x')],
            stderr=subprocess.DEVNULL).returncode == 0
    finally:
        os.chmod(probe, 0o700)
        shutil.rmtree(probe)
    if not runs or writes:
        pytest.skip('running as root, where chmod does not stop writes, '
                    'and setpriv cannot drop CAP_DAC_OVERRIDE here')
    return prefix


@pytest.fixture
def locked(tmp_path):
    folder = tmp_path / 'locked'
    folder.mkdir()
    folder.chmod(0o500)
    yield str(folder)
    folder.chmod(0o700)


def _run(prefix, args):
    proc = subprocess.run(prefix + [sys.executable] + args, cwd=REPO,
                          env=tool_env(), capture_output=True, text=True,
                          timeout=300)
    return proc


def _assert_refused(proc, tool, message):
    err = proc.stderr
    assert proc.returncode == 1, (proc.returncode, err[-3000:])
    assert 'Traceback' not in err, err[-3000:]
    lines = [line for line in err.splitlines() if line.startswith(tool)]
    assert lines == [f'{tool}: error: {message}'], err[-3000:]
    # stopped before the work: nothing was loaded, evaluated or written
    assert 'Loads checkpoint' not in proc.stdout + err
    assert 'ODS' not in proc.stdout


def _cannot_create(what, locked):
    return (f'cannot create {what} {locked}/out (Permission denied: '
            f'{locked} is not writable)')


def test_generate_pseudo_labels(unprivileged, locked, tiny_synthetic,
                                tmp_path):
    cfg, ckpt = make_tiny_classifier(tmp_path)
    proc = _run(unprivileged, [
        'tools/generate_pseudo_labels.py', cfg, ckpt,
        osp.join(tiny_synthetic, 'images', 'train'), osp.join(locked, 'out')
    ])
    _assert_refused(proc, 'generate_pseudo_labels',
                    _cannot_create('output folder', locked))


def test_infer(unprivileged, locked, tiny_seg_checkpoint, tiny_synthetic):
    config, ckpt = tiny_seg_checkpoint
    proc = _run(unprivileged, [
        'tools/infer.py', config, ckpt,
        osp.join(tiny_synthetic, 'images', 'test'), '--out',
        osp.join(locked, 'out')
    ])
    _assert_refused(proc, 'infer', _cannot_create('--out folder', locked))


def test_eval_crack_existing_folder(unprivileged, locked, tiny_synthetic):
    masks = osp.join(tiny_synthetic, 'masks', 'test')
    proc = _run(unprivileged, ['tools/analysis_tools/eval_crack.py', masks,
                               masks, '--out', locked])
    _assert_refused(proc, 'eval_crack', f'--out folder {locked} is not '
                    'writable (Permission denied)')


def test_train_work_dir(unprivileged, locked, tiny_synthetic):
    proc = _run(unprivileged, [
        'tools/train.py', UNET_DEMO_CONFIG, '--work-dir',
        osp.join(locked, 'out'), '--data-root', tiny_synthetic
    ])
    _assert_refused(proc, 'train', _cannot_create('work dir', locked))


def test_test_show_dir(unprivileged, locked, tiny_seg_checkpoint,
                       tiny_synthetic, tmp_path):
    config, ckpt = tiny_seg_checkpoint
    proc = _run(unprivileged, [
        'tools/test.py', config, ckpt, '--work-dir',
        str(tmp_path / 'work'), '--show-dir', osp.join(locked, 'out'),
        '--data-root', tiny_synthetic
    ])
    _assert_refused(proc, 'test', _cannot_create('--show-dir folder', locked))
