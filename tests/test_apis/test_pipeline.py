"""mmcrack.apis.pipeline: resumable stages with keys, progress lines read
from mmengine's output, test metrics of a run, markdown tables."""
import json
import os
import sys

import pytest

from mmcrack.apis.pipeline import (
    StageRunner,
    file_key,
    markdown_table,
    progress_text,
    read_test_metrics,
)


def _writer(path, text='x'):
    """A command that appends ``text`` to ``path`` and prints progress."""
    code = ('import sys; open(sys.argv[1], "a").write(sys.argv[2]); '
            'print("Iter(train) [ 3/10]  lr: 1e-3  eta: 0:00:07")')
    return [sys.executable, '-c', code, str(path), text]


def test_stage_runs_once_reuses_and_reruns_on_a_new_key(tmp_path, capsys):
    out, target = tmp_path / 'run', tmp_path / 'target.txt'
    runner = StageRunner(str(out))
    assert runner.run('a', [_writer(target)], target.exists, key={'v': 1})
    assert target.read_text() == 'x'
    printed = capsys.readouterr().out
    assert '[pipeline] a: train iter 3/10, ETA 0:00:07' in printed
    assert 'eta: 0:00:07' in (out / 'logs' / 'a.log').read_text()
    # a new runner on the same folder reads the state: reused
    again = StageRunner(str(out))
    assert not again.run('a', [_writer(target)], target.exists,
                         key={'v': 1})
    assert 'a: reused (' in capsys.readouterr().out
    assert target.read_text() == 'x'
    # another key, or missing outputs: the stage runs again
    assert again.run('a', [_writer(target)], target.exists, key={'v': 2})
    target.unlink()
    assert again.run('a', [_writer(target, 'y')], target.exists,
                     key={'v': 2})
    assert target.read_text() == 'y'
    state = json.loads((out / 'pipeline_state.json').read_text())
    assert state['a']['key'] == {'v': 2} and state['a']['finished']
    assert again.seconds()['a'] >= 0 and again.commands()['a']


def test_two_runners_on_one_folder_keep_each_others_stages(tmp_path):
    """Parallel invocations (two benchmark processes sharing a work dir)
    merge their records instead of overwriting each other's."""
    out = tmp_path / 'run'
    first, second = StageRunner(str(out)), StageRunner(str(out))
    a, b = tmp_path / 'a.txt', tmp_path / 'b.txt'
    assert first.run('a', [_writer(a)], a.exists)
    assert second.run('b', [_writer(b)], b.exists)
    state = json.loads((out / 'pipeline_state.json').read_text())
    assert set(state) == {'a', 'b'}
    # each sees the other's finished stage without a restart
    assert not second.run('a', [_writer(a)], a.exists)
    assert not first.run('b', [_writer(b)], b.exists)
    assert a.read_text() == 'x' and b.read_text() == 'x'
    # forgetting is written too: the stage runs again in a new runner
    first.forget('a')
    assert StageRunner(str(out)).run('a', [_writer(a)], a.exists)
    assert a.read_text() == 'xx'


def test_failures_name_the_stage_and_show_the_log(tmp_path):
    runner = StageRunner(str(tmp_path))
    bad = [sys.executable, '-c', 'print("boom here"); raise SystemExit(3)']
    with pytest.raises(RuntimeError, match=r'stage b failed \(exit 3\)'
                       r'(.|\n)*boom here'):
        runner.run('b', [bad], lambda: True)
    ok = [sys.executable, '-c', 'pass']
    with pytest.raises(RuntimeError, match='outputs are missing'):
        runner.run('c', [ok], lambda: False)
    assert 'b' not in runner.state and 'c' not in runner.state


def test_file_key_changes_with_the_file(tmp_path):
    path = tmp_path / 'ckpt.pth'
    path.write_bytes(b'1')
    first = file_key(str(path))
    path.write_bytes(b'12')
    assert file_key(str(path)) != first


@pytest.mark.parametrize('line,expected', [
    ('12/01 10:00:00 - mmengine - INFO - Epoch(train)  [2][ 40/120]  '
     'lr: 1.0e-03  eta: 0:01:02  time: 0.5', 'train epoch 2/4, iter 40/120, '
     'ETA 0:01:02'),
    ('Iter(train) [ 300/1500]  lr: 1e-3  eta: 1 day, 2:03:04  time: 1',
     'train iter 300/1500, ETA 1 day, 2:03:04'),
    ('Iter(test) [ 5/46]    eta: 0:00:31', 'test iter 5/46, ETA 0:00:31'),
    ('[>>>>      ] 12/40, 3.1 task/s, elapsed: 4s, ETA:     9s',
     '12/40 done, ETA 9s'),
    ('PseudoLabelHook: kept 4, dropped 1 (< 100 crack px), generated 5',
     'kept 4, dropped 1 (< 100 crack px), generated 5'),
    ('Loads checkpoint by local backend from path: x.pth', None),
])
def test_progress_text(line, expected):
    assert progress_text(line, max_epochs=4) == expected


def test_read_test_metrics_takes_the_newest_run(tmp_path):
    assert read_test_metrics(str(tmp_path / 'none')) is None
    for stamp, value in (('20261201_100000', 0.1), ('20261201_110000', 0.7)):
        os.makedirs(tmp_path / stamp)
        with open(tmp_path / stamp / f'{stamp}.json', 'w') as f:
            f.write(json.dumps({'test/ODS': value / 2}) + '\n')
            f.write(json.dumps({'test/ODS': value, 'crack/f1': 0.5}) + '\n')
    assert read_test_metrics(str(tmp_path)) == {'ODS': 0.7, 'f1': 0.5}


def test_markdown_table():
    assert markdown_table(['a', 'b'], [[0.12345, None], ['x', 3]]) == [
        '| a | b |', '|---|---|', '| 0.1235 | - |', '| x | 3 |']


def test_audit_records_python_accesses_under_audited_folders(tmp_path):
    masks, images = tmp_path / 'data' / 'masks', tmp_path / 'data' / 'images'
    masks.mkdir(parents=True)
    images.mkdir(parents=True)
    (masks / 'a.png').write_bytes(b'x')
    (images / 'a.png').write_bytes(b'x')
    code = ('import os, sys; open(sys.argv[1], "rb").read(); '
            'open(sys.argv[2], "rb").read(); os.listdir(sys.argv[3])')
    reader = [sys.executable, '-c', code, str(images / 'a.png'),
              str(masks / 'a.png'), str(masks)]
    runner = StageRunner(str(tmp_path / 'run'), audit=('masks', ))
    runner.run('reads', [reader], lambda: True)
    assert runner.audit_paths('reads') == sorted(
        [str(masks / 'a.png'), str(masks)])
    clean = [sys.executable, '-c', code.split(';')[0] + '; '
             + code.split(';')[1], str(images / 'a.png')]
    runner.run('clean', [clean], lambda: True)
    assert runner.audit_paths('clean') == []
    plain = StageRunner(str(tmp_path / 'run2'))
    plain.run('reads', [reader], lambda: True)
    assert plain.audit_paths('reads') is None


def test_other_commands_rerun_a_stage(tmp_path):
    target = tmp_path / 'target.txt'
    runner = StageRunner(str(tmp_path / 'run'))
    assert runner.run('a', [_writer(target, 'x')], target.exists)
    assert not runner.run('a', [_writer(target, 'x')], target.exists)
    assert runner.run('a', [_writer(target, 'y')], target.exists)
    assert target.read_text() == 'xy'
