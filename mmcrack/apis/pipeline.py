"""Resumable stages for the end-to-end scripts (``tools/run_pipeline.py``,
``benchmarks/paper_tables.py``): run, stamp, reuse, report.

A *stage* is a list of commands (ordinary ``tools/*.py`` calls, so each can
be rerun by hand) plus a check that its outputs exist and, optionally, a
*key* (a JSON-serialisable dict of what its result depends on, e.g. the
input checkpoint's size and mtime). :class:`StageRunner` runs a stage unless
it is recorded as finished with the same key and its outputs exist; it keeps
every command's output in ``OUT/logs/<stage>.log`` and shows a one-line
progress (epoch / iteration of the total, ETA, pseudo-label counts) in the
terminal while the stage runs.

With ``audit=('masks',)`` every stage's Python processes record the paths
they open or list that have a ``masks`` component (an audit hook installed
through ``mmcrack/apis/stage_audit/sitecustomize.py`` on the stages'
``PYTHONPATH``); the state
keeps them per stage, so a report can say which stage read ground truth.
Files opened by C code (OpenCV's ``imread``) are not seen.

Helpers shared by the scripts: :func:`python_command`,
:func:`train_command`, :func:`test_command` (command lines),
:func:`file_key` (a stage key of input files), :func:`read_test_metrics`
(metrics of an mmengine test run), :func:`markdown_table`.
"""
import fcntl
import json
import os
import os.path as osp
import re
import shlex
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence

from mmcrack.utils.file_io import atomic_write_json
from mmcrack.utils.source_tree import SOURCE_ROOT

#: The repository root: the scripts' commands run there.
REPO = SOURCE_ROOT

Command = List[str]

# mmengine's log lines: "Epoch(train)  [2][ 40/120]  ...  eta: 0:01:02",
# "Iter(train) [ 300/1500] ... eta: 0:10:11", test/val progress; mmengine's
# ProgressBar: "[>>>   ] 12/40, 3.1 task/s, elapsed: 4s, ETA:     9s"
_EPOCH_RE = re.compile(r'Epoch\((train|val|test)\)\s*\[(\d+)\]\s*\[\s*(\d+)/'
                       r'(\d+)\]')
_ITER_RE = re.compile(r'Iter\((train|val|test)\)\s*\[\s*(\d+)/(\d+)\]')
_ETA_RE = re.compile(r'\beta: ([0-9:]+(?: day[s]?, [0-9:]+)?)')
_BAR_RE = re.compile(r'\]\s*(\d+)/(\d+), [0-9.]+ task/s, elapsed: \w+, '
                     r'ETA:\s*(\w+)')


def progress_text(line: str, max_epochs: Optional[int] = None
                  ) -> Optional[str]:
    """A short progress text from one line of a stage's output, or None.

    Args:
        line: one line of mmengine / mmcrack output.
        max_epochs: the epoch total, when known (mmengine's epoch lines give
            only the current epoch).
    """
    match = _ITER_RE.search(line)
    eta = _ETA_RE.search(line)
    suffix = f', ETA {eta.group(1)}' if eta else ''
    if match:
        mode, i, n = match.groups()
        return f'{mode} iter {i}/{n}{suffix}'
    match = _EPOCH_RE.search(line)
    if match:
        mode, epoch, i, n = match.groups()
        total = f'/{max_epochs}' if max_epochs else ''
        return f'{mode} epoch {epoch}{total}, iter {i}/{n}{suffix}'
    match = _BAR_RE.search(line)
    if match:
        i, n, left = match.groups()
        return f'{i}/{n} done, ETA {left}'
    if 'PseudoLabelHook:' in line:
        return line.split('PseudoLabelHook:', 1)[1].strip()[:100]
    return None


class _ProgressLine:
    """Prints progress texts of a running stage: rewritten in place on a
    terminal, at most every ``every`` seconds otherwise."""

    def __init__(self, stage: str, stream=None, every: float = 30.0):
        self.stage = stage
        self.stream = stream or sys.stdout
        self.tty = hasattr(self.stream, 'isatty') and self.stream.isatty()
        self.every = 0.5 if self.tty else every
        self.last = 0.0
        self.shown = False

    def update(self, text: str, force: bool = False) -> None:
        now = time.time()
        if not force and now - self.last < self.every:
            return
        self.last = now
        line = f'[pipeline] {self.stage}: {text}'
        if self.tty:
            self.stream.write('\r' + line[:150].ljust(150))
            self.shown = True
        else:
            self.stream.write(line + '\n')
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.shown:
            self.stream.write('\n')
            self.stream.flush()


class StageRunner:
    """Runs stages as subprocesses, records commands, times and keys, and
    reuses finished ones.

    Args:
        out_dir: the run's output folder; the state goes to
            ``out_dir/pipeline_state.json``, logs to ``out_dir/logs``.
        name: the prefix of printed lines.
        cwd: where the commands run (the repository root).
    """

    def __init__(self, out_dir: str, name: str = 'pipeline',
                 cwd: str = REPO, audit: Sequence[str] = ()):
        self.out = osp.abspath(out_dir)
        self.name = name
        self.cwd = cwd
        self.audit = tuple(audit)
        os.makedirs(self.out, exist_ok=True)

        self.state_path = osp.join(self.out, 'pipeline_state.json')
        self.state: Dict[str, dict] = self._read_state()

    def _read_state(self) -> Dict[str, dict]:
        if not osp.isfile(self.state_path):
            return {}
        with open(self.state_path) as f:
            return json.load(f)

    def _update_state(self, stage: str, record: Optional[dict]) -> None:
        """Write one stage's record (None: drop it) into the state file,
        merged under a lock with what other runners on the same folder
        wrote since, so parallel invocations keep each other's stages."""
        with open(self.state_path + '.lock', 'a') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = self._read_state()
                if record is None:
                    state.pop(stage, None)
                else:
                    state[stage] = record
                atomic_write_json(self.state_path, state)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        self.state = state

    def is_done(self, stage: str, done: Callable[[], bool],
                key: Optional[dict] = None,
                commands: Optional[Sequence[Command]] = None) -> bool:
        """Whether ``stage`` finished with this ``key`` and these
        ``commands`` (when given) and its outputs exist."""
        self.state = self._read_state()  # with other runners' stages
        record = self.state.get(stage)
        same_commands = commands is None or record is not None and \
            record.get('commands') == [_command_text(c) for c in commands]
        return bool(record and record.get('finished') and same_commands
                    and record.get('key') == _jsonable(key) and done())

    def run(self, stage: str, commands: Sequence[Command],
            done: Callable[[], bool], key: Optional[dict] = None,
            max_epochs: Optional[int] = None) -> bool:
        """Run ``commands`` unless the stage is already done.

        Args:
            stage: the stage name (state entry and log file name).
            commands: argument lists, run in order in :attr:`cwd`; other
                commands than recorded (options, paths) rerun the stage.
            done: True when the stage's outputs exist.
            key: what the result depends on beyond the commands (e.g. the
                size and mtime of an input checkpoint); a different key
                reruns.
            max_epochs: epoch total for the progress line.

        Returns:
            True if the stage ran, False if it was reused.

        Raises:
            RuntimeError: a command failed (with the end of its log), or the
                outputs are missing after the stage ran.
        """
        if self.is_done(stage, done, key, commands):
            print(f'[{self.name}] {stage}: reused '
                  f'({self.state[stage]["seconds"]:.1f} s when it ran)',
                  flush=True)
            return False
        start = time.time()
        printed = []
        log_path = osp.join(self.out, 'logs', f'{stage}.log')
        os.makedirs(osp.dirname(log_path), exist_ok=True)
        audit_log = osp.join(self.out, 'audit', f'{stage}.txt')
        if self.audit:
            os.makedirs(osp.dirname(audit_log), exist_ok=True)
            if osp.exists(audit_log):
                os.remove(audit_log)
        for cmd in commands:
            text = _command_text(cmd)
            printed.append(text)
            print(f'[{self.name}] {stage}: {text}', flush=True)
            code = self._run_one(stage, cmd, log_path, max_epochs,
                                 audit_log)
            if code != 0:
                with open(log_path, errors='replace') as log:
                    tail = log.read()[-4000:]
                raise RuntimeError(
                    f'stage {stage} failed (exit {code}): {text}\n'
                    f'--- last lines of {log_path} ---\n{tail}')
        if not done():
            raise RuntimeError(f'stage {stage} ran but its outputs are '
                               'missing')
        record = dict(seconds=round(time.time() - start, 2),
                      commands=printed, finished=True, key=_jsonable(key))
        if self.audit:
            record['audited'] = list(self.audit)
            record['audit_paths'] = _read_audit(audit_log)
        self._update_state(stage, record)
        return True

    def forget(self, stage: str) -> None:
        """Drop a stage's record (it runs again next time)."""
        self._update_state(stage, None)

    def seconds(self) -> Dict[str, float]:
        """Recorded run time of every finished stage."""
        return {k: v['seconds'] for k, v in self.state.items()}

    def commands(self) -> Dict[str, List[str]]:
        """Recorded command lines of every finished stage."""
        return {k: v['commands'] for k, v in self.state.items()}

    def audit_paths(self, stage: str) -> Optional[List[str]]:
        """The audited paths a finished stage opened or listed (None when
        the stage ran without the audit)."""
        return self.state.get(stage, {}).get('audit_paths')

    def _run_one(self, stage, cmd, log_path, max_epochs, audit_log) -> int:
        env = dict(os.environ)
        env['PYTHONPATH'] = self.cwd + os.pathsep + env.get('PYTHONPATH', '')
        if self.audit:
            env['PYTHONPATH'] = AUDIT_SITE_DIR + os.pathsep + \
                env['PYTHONPATH']
            env['MMCRACK_AUDIT_LOG'] = audit_log
            env['MMCRACK_AUDIT_NAMES'] = os.pathsep.join(self.audit)
        env.setdefault('PYTHON', sys.executable)
        env['PYTHONUNBUFFERED'] = '1'
        progress = _ProgressLine(stage)
        with open(log_path, 'ab') as log, subprocess.Popen(
                [str(c) for c in cmd], cwd=self.cwd, env=env,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
            try:
                pending = b''
                for chunk in iter(lambda: proc.stdout.read1(65536), b''):
                    log.write(chunk)
                    log.flush()
                    pending += chunk
                    *lines, pending = re.split(rb'[\r\n]', pending)
                    for line in lines:
                        text = progress_text(line.decode(errors='replace'),
                                             max_epochs)
                        if text:
                            progress.update(
                                text, force='PseudoLabelHook' in text)
                code = proc.wait()
            except BaseException:  # interrupted: the stage goes with us
                proc.kill()
                raise
            finally:
                progress.close()
        return code


#: Folder holding the ``sitecustomize`` module of the stage audit.
AUDIT_SITE_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'stage_audit')


def _read_audit(path: str) -> List[str]:
    if not osp.isfile(path):
        return []
    with open(path) as f:
        return sorted({line.strip() for line in f if line.strip()})


def _command_text(cmd: Command) -> str:
    return ' '.join(shlex.quote(str(c)) for c in cmd)


def _jsonable(key):
    return None if key is None else json.loads(json.dumps(key,
                                                          default=str))


def file_key(*paths: str) -> dict:
    """A stage key of input files: each path with its size and mtime."""
    key = {}
    for path in paths:
        st = os.stat(path)
        key[osp.abspath(path)] = [st.st_size, st.st_mtime_ns]
    return key


def python_command(script: str, *args) -> Command:
    """``python SCRIPT ARGS`` with this interpreter."""
    return [sys.executable, script, *[str(a) for a in args]]


def _device_args(device: str) -> List[str]:
    return [] if device in (None, 'auto') else ['--device', device]


def train_command(config: str, work_dir: str, data_root: Optional[str],
                  device: str = 'auto', options: Sequence[str] = (),
                  launcher: str = 'none', nproc: int = 2) -> Command:
    """``tools/train.py`` (or ``tools/dist_train.sh`` with
    ``launcher='pytorch'``) for one config."""
    common = ['--work-dir', work_dir]
    if data_root:
        common += ['--data-root', data_root]
    common += _device_args(device)
    if options:
        common += ['--cfg-options', *options]
    if launcher == 'pytorch':
        return [osp.join('tools', 'dist_train.sh'), config, str(nproc),
                *common]
    return python_command('tools/train.py', config, *common)


def test_command(config: str, checkpoint: str, work_dir: str,
                 data_root: Optional[str], device: str = 'auto',
                 options: Sequence[str] = ()) -> Command:
    """``tools/test.py`` for one config and checkpoint."""
    cmd = python_command('tools/test.py', config, checkpoint, '--work-dir',
                         work_dir)
    if data_root:
        cmd += ['--data-root', data_root]
    cmd += _device_args(device)
    return cmd + (['--cfg-options', *options] if options else [])


def read_test_metrics(work_dir: str) -> Optional[dict]:
    """Metrics of the newest ``tools/test.py`` run in ``work_dir`` (the last
    line of mmengine's ``<timestamp>/<timestamp>.json`` scalar log), with
    prefixes such as ``test/`` removed; None when there is none."""
    logs = sorted(p for p in _glob_json(work_dir))
    for path in reversed(logs):
        with open(path) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        if lines:
            return {k.split('/')[-1]: v for k, v in lines[-1].items()}
    return None


def _glob_json(work_dir: str):
    if not osp.isdir(work_dir):
        return []
    out = []
    for stamp in os.listdir(work_dir):
        path = osp.join(work_dir, stamp, f'{stamp}.json')
        if osp.isfile(path):
            out.append(path)
    return out


def format_value(value, digits: int = 4) -> str:
    """A table cell: floats with ``digits`` decimals, None as ``-``."""
    if value is None:
        return '-'
    if isinstance(value, float):
        return f'{value:.{digits}f}'
    return str(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence],
                   digits: int = 4) -> List[str]:
    """Lines of a markdown table (cells through :func:`format_value`)."""
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '---|' * len(header)]
    for row in rows:
        lines.append('| ' + ' | '.join(format_value(v, digits)
                                       for v in row) + ' |')
    return lines
