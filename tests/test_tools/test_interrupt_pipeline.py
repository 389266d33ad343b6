"""tools/run_pipeline.py --smoke SIGKILLed (with the stage it runs) in the
weakly-supervised stage, after some pseudo-labels are written, then rerun:
finished stages are reused, the killed one is redone, and report.json has
the numbers of an uninterrupted run (on CPU every stage is deterministic:
same seed, same inputs, one thread)."""
import glob
import json
import os.path as osp
import sys

import pytest
from conftest import run_tool

sys.path.insert(0, osp.dirname(__file__))
from hardening_utils import kill_group, start_tool, tool_env, wait_for  # noqa: E402

# the numbers of report.json (paths, seconds and commands differ by run)
NUMBERS = ('classifier', 'pseudo_labels', 'pseudo_label_counts', 'test',
           'test_runner_metrics')


def _cmd(out):
    return ['tools/run_pipeline.py', '--smoke', '--out', out, '--device',
            'cpu']


def _report(out):
    with open(osp.join(out, 'report.json')) as f:
        report = json.load(f)
    return {k: report[k] for k in NUMBERS}


def _state(out):
    path = osp.join(out, 'pipeline_state.json')
    if not osp.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


@pytest.fixture
def reference(tmp_path):
    """An uninterrupted run in its own folder, started beside the test's
    runs (each stage is mostly a tool's start-up; ~50 s a run on one
    core). Yields (out_dir, process, log); killed at teardown if needed."""
    out = str(tmp_path / 'reference')
    log = str(tmp_path / 'reference.log')
    proc = start_tool(_cmd(out), log, env=tool_env())
    yield out, proc, log
    kill_group(proc)


@pytest.mark.slow
def test_sigkill_in_a_later_stage_then_rerun(reference, tmp_path):
    # the run killed while the wsv stage labels / trains
    out = str(tmp_path / 'killed')
    log = str(tmp_path / 'killed.log')
    proc = start_tool(_cmd(out), log, env=tool_env())
    labels = osp.join(out, 'wsv', 'pseudo_labels', '*', 'train', '*.png')
    wait_for(lambda: glob.glob(labels), proc, log)
    kill_group(proc)  # the pipeline and the tools/train.py it runs
    assert proc.returncode == -9
    state = _state(out)
    assert {'data', 'classifier', 'classifier_test'} <= set(state)
    assert 'wsv' not in state and not osp.exists(osp.join(out,
                                                          'report.json'))

    rerun = run_tool(_cmd(out), env=tool_env())
    reused = {line.split()[1].rstrip(':') for line in rerun.stdout.splitlines()
              if line.startswith('[pipeline]') and ': reused (' in line}
    assert reused == {'data', 'classifier', 'classifier_test'}

    # the uninterrupted run gives the same numbers
    ref, ref_proc, ref_log = reference
    if ref_proc.wait(timeout=600) != 0:
        with open(ref_log, errors='replace') as f:
            pytest.fail('the uninterrupted run failed\n' + f.read()[-4000:])
    got, want = _report(out), _report(ref)
    assert got == want
    assert want['pseudo_label_counts']['images'] == 6
