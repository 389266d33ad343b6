"""The tree passes the project's lint settings (ruff.toml): pycodestyle,
pyflakes and import order over mmcrack, tools, tests, benchmarks, configs."""
import shutil
import subprocess
import sys

import pytest
from conftest import REPO

PATHS = ['mmcrack', 'tools', 'tests', 'benchmarks', 'configs']


def _ruff():
    exe = shutil.which('ruff', path=sys.prefix + '/bin')
    if exe is None:
        pytest.fail('ruff is not installed: it is a test requirement '
                    '(requirements/tests.txt); run make install')
    return exe


def test_ruff_check_passes():
    proc = subprocess.run([_ruff(), 'check', *PATHS], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def test_ruff_finds_a_violation(tmp_path):
    """The check can fail: an unused import and a long line are reported."""
    bad = tmp_path / 'bad.py'
    bad.write_text('import os\nx = "' + 'a' * 90 + '"\n')
    proc = subprocess.run([_ruff(), 'check', '--config',
                           f'{REPO}/ruff.toml', str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert 'F401' in proc.stdout and 'E501' in proc.stdout
