"""Helpers of the hardening tests: start a tool in its own process group,
wait for a condition on disk, SIGKILL the whole group, read metrics."""
import glob
import json
import os
import os.path as osp
import signal
import socket
import subprocess
import sys
import time

import pytest
from conftest import REPO


def tool_env(extra=None) -> dict:
    """The environment ``run_tool`` gives a tool (repo on PYTHONPATH), one
    thread per process (the same in every run, so CPU results can be compared
    bit for bit), plus ``extra``."""
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    env.setdefault('PYTHON', sys.executable)
    env['OMP_NUM_THREADS'] = '1'
    env.update(extra or {})
    return env


def start_tool(args, log_path, env=None) -> subprocess.Popen:
    """Start ``python ARGS`` in a new session (its own process group, so
    the stages it spawns can be killed with it); output goes to
    ``log_path`` (a file: a pipe nobody reads would block the tool)."""
    log = open(log_path, 'ab')
    try:
        return subprocess.Popen([sys.executable] + list(args), cwd=REPO,
                                env=env or tool_env(), stdout=log,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
    finally:
        log.close()  # the child keeps its own descriptor


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process and everything in its group; wait for it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=60)


def wait_for(condition, proc, log_path, timeout=300, interval=0.02):
    """Poll ``condition()`` until true. Fails (after killing ``proc``) when
    the process exits first or ``timeout`` passes."""
    deadline = time.time() + timeout
    while True:
        if condition():
            return
        if proc.poll() is not None or time.time() > deadline:
            what = ('exited with %s' % proc.returncode
                    if proc.returncode is not None else 'timed out')
            kill_group(proc)
            with open(log_path, errors='replace') as f:
                tail = f.read()[-4000:]
            pytest.fail(f'the tool {what} before the kill point\n{tail}')
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def runner_metrics(work_dir: str) -> dict:
    """Last line of the newest ``<timestamp>/<timestamp>.json`` of a
    ``tools/test.py`` run (the metrics)."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.json')))
    assert logs, f'no metrics json in {work_dir}'
    with open(logs[-1]) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    return lines[-1]


def val_metrics(work_dir: str) -> list:
    """Every validation line (with ``ODS``) of a training run's
    ``vis_data/scalars.json`` files, oldest run first."""
    out = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            out += [line for line in map(json.loads, filter(str.strip, f))
                    if any(k.endswith('ODS') for k in line)]
    return out
