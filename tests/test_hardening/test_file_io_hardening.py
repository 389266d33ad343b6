"""mmcrack.utils.file_io helpers for killed runs and unwritable folders:
ensure_writable_dir, remove_stale_temp_files, latest_complete_checkpoint,
make_local_puts_atomic, the mode of atomically written files."""
import os
import os.path as osp
import stat
import subprocess

import pytest
import torch

from mmcrack.utils.file_io import (
    NotWritableError,
    atomic_write_bytes,
    ensure_writable_dir,
    is_complete_checkpoint,
    latest_complete_checkpoint,
    make_local_puts_atomic,
    remove_stale_temp_files,
)


def _dead_pid():
    proc = subprocess.Popen(['true'])
    proc.wait()
    return proc.pid


def test_ensure_writable_dir_creates_and_leaves_nothing(tmp_path):
    path = ensure_writable_dir(str(tmp_path / 'a' / 'b'))
    assert path == str(tmp_path / 'a' / 'b') and osp.isdir(path)
    assert os.listdir(path) == []
    assert ensure_writable_dir(path) == path  # existing: fine


def test_ensure_writable_dir_under_a_file_or_on_a_file(tmp_path):
    blocker = tmp_path / 'results'
    blocker.write_text('a file where a folder should be')
    with pytest.raises(NotWritableError) as e:
        ensure_writable_dir(str(blocker / 'out'), '--out folder')
    assert str(e.value) == (f'cannot create --out folder {blocker}/out '
                            f'({blocker} is a file, not a folder)')
    with pytest.raises(NotWritableError, match='exists and is not a folder'):
        ensure_writable_dir(str(blocker), 'work dir')


@pytest.mark.skipif(os.geteuid() == 0,
                    reason='root writes into chmod 0o500 folders; '
                    'test_unwritable_output.py covers root with setpriv')
def test_ensure_writable_dir_permission(tmp_path):
    locked = tmp_path / 'locked'
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(NotWritableError, match=f'{locked} is not '
                           'writable'):
            ensure_writable_dir(str(locked / 'out'))
        with pytest.raises(NotWritableError, match='is not writable'):
            ensure_writable_dir(str(locked))
    finally:
        locked.chmod(0o700)


def test_remove_stale_temp_files_only_of_dead_processes(tmp_path):
    dead = _dead_pid()
    names = {
        f'.tmp-{dead}-k2j3label.png': 'killed writer',
        f'.tmp-{os.getpid()}-x9label.png': 'live writer (this process)',
        '.tmp-abc.png': 'unknown writer',
        'label.png': 'final',
    }
    for name in names:
        (tmp_path / name).write_bytes(b'x')
    removed = remove_stale_temp_files(str(tmp_path))
    assert removed == [str(tmp_path / f'.tmp-{dead}-k2j3label.png')]
    assert sorted(os.listdir(tmp_path)) == sorted(list(names)[1:])
    assert remove_stale_temp_files(str(tmp_path / 'missing')) == []


def test_atomic_write_keeps_the_usual_file_mode(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    path = tmp_path / 'a.bin'
    atomic_write_bytes(str(path), b'data')
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ['a.bin']


def _save(path, step):
    torch.save(dict(meta=dict(iter=step), state_dict={}), str(path))


def test_latest_complete_checkpoint(tmp_path):
    work = tmp_path
    assert latest_complete_checkpoint(str(work)) is None
    for step in (1, 2, 10):
        _save(work / f'iter_{step}.pth', step)
    data = (work / 'iter_10.pth').read_bytes()
    (work / 'iter_11.pth').write_bytes(data[:len(data) // 2])  # cut short
    (work / 'best_ODS_iter_11.pth').write_bytes(data)  # not for resuming
    assert not is_complete_checkpoint(str(work / 'iter_11.pth'))
    assert is_complete_checkpoint(str(work / 'iter_10.pth'))
    marker = work / 'last_checkpoint'
    # no marker / empty marker / marker naming a cut or a removed file:
    # the newest whole iter_N (by N, not by name)
    for content in (None, '', str(work / 'iter_11.pth'),
                    str(work / 'iter_12.pth')):
        if content is not None:
            marker.write_text(content)
        assert latest_complete_checkpoint(str(work)) == str(work /
                                                            'iter_10.pth')
    marker.write_text(str(work / 'iter_2.pth'))  # a whole one: it wins
    assert latest_complete_checkpoint(str(work)) == str(work / 'iter_2.pth')


def test_make_local_puts_atomic(tmp_path, monkeypatch):
    from mmengine.fileio.backends.local_backend import LocalBackend
    monkeypatch.setattr(LocalBackend, 'put', LocalBackend.put)  # restored
    make_local_puts_atomic()
    make_local_puts_atomic()  # idempotent
    backend = LocalBackend()
    path = tmp_path / 'sub' / 'iter_1.pth'
    backend.put(b'old', path)
    assert path.read_bytes() == b'old'

    def killed(*args):
        raise KeyboardInterrupt  # stands in for dying before the rename

    monkeypatch.setattr(os, 'replace', killed)
    with pytest.raises(KeyboardInterrupt):
        backend.put(b'new, longer content', str(path))
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path / 'sub') == ['iter_1.pth']
