"""mmcrack.utils.file_io helpers for killed runs and unwritable folders:
ensure_writable_dir, remove_stale_temp_files, the mode of atomically written
files."""
import os
import os.path as osp
import stat
import subprocess

import pytest

from mmcrack.utils.file_io import (
    NotWritableError,
    atomic_write_bytes,
    ensure_writable_dir,
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


