"""Audit of a pipeline stage's file accesses (``StageRunner(audit=...)``).

This folder is put first on the stages' ``PYTHONPATH``, so Python imports
this module at start-up (``sitecustomize``). When ``MMCRACK_AUDIT_LOG`` and
``MMCRACK_AUDIT_NAMES`` are set, an audit hook appends every path the
process opens or lists that has one of the audited folder names as a
component (e.g. ``masks``) to the log, one line per access.
"""
import os
import sys

_LOG = os.environ.get('MMCRACK_AUDIT_LOG')
_NAMES = set(filter(None, os.environ.get('MMCRACK_AUDIT_NAMES', '').split(
    os.pathsep)))
_BUSY = []


def _mmcrack_audit(event, args):
    if _BUSY or event not in ('open', 'os.listdir', 'os.scandir') or not args:
        return
    path = args[0]
    if not isinstance(path, (str, bytes, os.PathLike)):
        return
    try:
        path = os.path.abspath(os.fsdecode(os.fspath(path)))
    except (TypeError, ValueError):
        return
    if _NAMES & set(path.split(os.sep)):
        _BUSY.append(1)
        try:
            with open(_LOG, 'a') as f:
                f.write(path + '\n')
        finally:
            _BUSY.pop()


if _LOG and _NAMES:
    sys.addaudithook(_mmcrack_audit)
