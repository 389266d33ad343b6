"""Audit of a pipeline stage's file accesses (``StageRunner(audit=...)``).

This folder is put first on the stages' ``PYTHONPATH``, so Python imports
this module at start-up (``sitecustomize``). When ``MMCRACK_AUDIT_LOG`` and
``MMCRACK_AUDIT_NAMES`` are set, an audit hook appends every path the
process opens or lists that has one of the audited folder names as a
component (e.g. ``masks``) to the log, one line per access. A
``sitecustomize`` that this one shadows (later on ``sys.path``) is run too.
The tests install the same hook in their own process
(:func:`make_audit_hook`).
"""
import os
import sys

EVENTS = ('open', 'os.listdir', 'os.scandir')


def make_audit_hook(names, record):
    """An audit hook calling ``record(path)`` for each opened or listed
    path (absolute) that has a component in ``names`` (any path when
    ``names`` is empty)."""
    names = set(names or ())
    busy = []

    def hook(event, args):
        if busy or event not in EVENTS or not args:
            return
        path = args[0]
        if not isinstance(path, (str, bytes, os.PathLike)):
            return
        try:
            path = os.path.abspath(os.fsdecode(os.fspath(path)))
        except (TypeError, ValueError):
            return
        if names and not names & set(path.split(os.sep)):
            return
        busy.append(1)  # record() may open files itself
        try:
            record(path)
        finally:
            busy.pop()

    return hook


def _append_to(log_path):
    def record(path):
        with open(log_path, 'a') as f:
            f.write(path + '\n')
    return record


def _run_shadowed_sitecustomize():
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        folder = os.path.abspath(entry or os.curdir)
        candidate = os.path.join(folder, 'sitecustomize.py')
        if folder != here and os.path.isfile(candidate):
            import importlib.util
            spec = importlib.util.spec_from_file_location(
                '_shadowed_sitecustomize', candidate)
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
            return


_LOG = os.environ.get('MMCRACK_AUDIT_LOG')
_NAMES = [n for n in os.environ.get('MMCRACK_AUDIT_NAMES', '').split(
    os.pathsep) if n]
if _LOG and _NAMES:
    sys.addaudithook(make_audit_hook(_NAMES, _append_to(_LOG)))
    _run_shadowed_sitecustomize()
