import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED_DATASETS = osp.join(osp.dirname(REPO), 'shared', 'datasets')


@pytest.fixture(scope='session')
def tiny_synthetic(tmp_path_factory):
    """A tiny synthetic crack set (64x64): train 4, val 2, test 2."""
    import dataclasses

    from mmcrack.datasets.synthetic import (SyntheticCrackConfig,
                                            write_synthetic_dataset)
    root = str(tmp_path_factory.mktemp('synthetic'))
    cfg = dataclasses.replace(SyntheticCrackConfig(), height=64, width=64,
                              crack_free_prob=0.0, crack_length=(40, 80))
    write_synthetic_dataset(root, seed=1, splits=dict(train=4, val=2, test=2),
                            cfg=cfg)
    return root


def run_tool(args, cwd=REPO, env=None, timeout=600):
    """Run ``python ARGS`` (or an executable) in the repo; return the result.

    Fails the test with the tool's output when it exits non-zero.
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env['PYTHONPATH'] = REPO + os.pathsep + full_env.get('PYTHONPATH', '')
    full_env.setdefault('PYTHON', sys.executable)  # for tools/dist_*.sh
    cmd = args if args[0].endswith('.sh') else [sys.executable] + list(args)
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f'{" ".join(cmd)} exited {proc.returncode}\n'
                    f'--- stdout ---\n{proc.stdout[-6000:]}\n'
                    f'--- stderr ---\n{proc.stderr[-6000:]}')
    return proc
