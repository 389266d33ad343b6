"""mmcrack.utils.checkpoints: complete checkpoints, the resume and result
finders (numeric steps, half-written files), atomic checkpoint writes."""
import os

import pytest
import torch

from mmcrack.utils.checkpoints import (
    find_checkpoint,
    is_complete_checkpoint,
    latest_complete_checkpoint,
    make_local_puts_atomic,
)


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


def test_find_checkpoint_sorts_steps_as_numbers(tmp_path):
    """epoch_10 comes after epoch_9 (a text sort would pick epoch_9), and a
    half-written newest file is skipped."""
    for step in (1, 2, 9, 10):
        _save(tmp_path / f'epoch_{step}.pth', step)
    assert sorted(os.listdir(tmp_path))[-1] == 'epoch_9.pth'  # the trap
    assert find_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_10.pth')
    data = (tmp_path / 'epoch_10.pth').read_bytes()
    (tmp_path / 'epoch_11.pth').write_bytes(data[:len(data) // 3])
    assert find_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_10.pth')
    assert find_checkpoint(str(tmp_path / 'missing')) is None


def test_find_checkpoint_best(tmp_path):
    for step in (500, 1000):
        _save(tmp_path / f'iter_{step}.pth', step)
    # no best file: the last one
    assert find_checkpoint(str(tmp_path), 'best') == str(tmp_path /
                                                         'iter_1000.pth')
    _save(tmp_path / 'best_ODS_iter_500.pth', 500)
    _save(tmp_path / 'best_ODS_iter_90.pth', 90)
    data = (tmp_path / 'iter_1000.pth').read_bytes()
    (tmp_path / 'best_ODS_iter_1000.pth').write_bytes(data[:100])  # cut
    assert find_checkpoint(str(tmp_path), 'best') == str(
        tmp_path / 'best_ODS_iter_500.pth')
    assert find_checkpoint(str(tmp_path), 'last') == str(tmp_path /
                                                         'iter_1000.pth')
    with pytest.raises(ValueError, match='which'):
        find_checkpoint(str(tmp_path), 'newest')
