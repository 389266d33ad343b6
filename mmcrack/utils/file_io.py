"""File helpers shared by datasets, tools and hooks.

* :func:`pair_by_stem` — pair two folders (images/masks, predictions/ground
  truth) by file stem, with one error listing every unpaired stem.
* :func:`read_image` / :func:`read_mask` — decode with a clear error naming the
  file.
* :func:`atomic_write_bytes`, :func:`atomic_write_image`,
  :func:`atomic_write_json` — write to a temporary file in the same folder and
  rename, so a killed process never leaves a half-written file under its final
  name.
* :func:`file_sha256` — the hex SHA-256 of a file's bytes (cache keys).
* :func:`ensure_writable_dir` — create an output folder and prove it is
  writable before a tool does any expensive work.
* :func:`remove_stale_temp_files` — remove the temporary files that a killed
  writer left behind.

Checkpoints (finding the complete ones, writing them atomically) are in
:mod:`mmcrack.utils.checkpoints`.
"""
import errno
import hashlib
import json
import os
import os.path as osp
import re
import tempfile
from typing import Iterable, List, Optional, Sequence, Tuple

import cv2
import numpy as np

# Temporary files of the atomic writers: ``.tmp-<pid>-<random><final name>``
# (hidden, never matched by the image / mask listings).
TEMP_PREFIX = '.tmp-'
_UMASK = os.umask(0o022)  # read the process umask (once, at import) ...
os.umask(_UMASK)  # ... and put it back
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')
MASK_EXTENSIONS = ('.png', '.bmp', '.tif', '.tiff', '.jpg', '.jpeg')


def list_stems(folder: str, extensions: Sequence[str]) -> dict:
    """Map file stem -> path of the files in ``folder`` with one of
    ``extensions``.

    Raises:
        FileNotFoundError: ``folder`` does not exist.
        ValueError: two files share a stem (e.g. ``a.jpg`` and ``a.png``).
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'folder not found: {folder}')
    stems = {}
    exts = tuple(e.lower() for e in extensions)
    for name in sorted(os.listdir(folder)):
        stem, ext = osp.splitext(name)
        if name.startswith('.') or ext.lower() not in exts:
            continue
        if stem in stems:
            raise ValueError(f'{folder}: two files share the stem {stem!r}: '
                             f'{osp.basename(stems[stem])} and {name}')
        stems[stem] = osp.join(folder, name)
    return stems


def read_split_file(split_file: str) -> List[str]:
    """Stems listed one per line (blank lines and ``#`` comments ignored)."""
    if not osp.isfile(split_file):
        raise FileNotFoundError(f'split file not found: {split_file}')
    with open(split_file) as f:
        lines = (line.split('#', 1)[0].strip() for line in f)
        return [osp.splitext(line)[0] for line in lines if line]


def _format_stems(stems: Iterable[str], limit: int = 20) -> str:
    stems = sorted(stems)
    text = ', '.join(stems[:limit])
    return text + (f', … ({len(stems)} in all)' if len(stems) > limit else '')


def pair_by_stem(dir_a: str,
                 dir_b: str,
                 exts_a: Sequence[str] = IMG_EXTENSIONS,
                 exts_b: Sequence[str] = MASK_EXTENSIONS,
                 names: Tuple[str, str] = ('image', 'mask'),
                 stems: Optional[Sequence[str]] = None,
                 allow_missing_b: bool = False) -> List[Tuple[str, str, str]]:
    """Pair the files of two folders by stem.

    Args:
        dir_a, dir_b: the two folders.
        exts_a, exts_b: accepted extensions (lower case, with dot).
        names: how the two sides are called in error messages.
        stems: if given (e.g. from a split file), only these stems, in this
            order; a stem missing from ``dir_a`` (or from ``dir_b`` unless
            ``allow_missing_b``) is an error.
        allow_missing_b: pair with ``None`` instead of failing when ``dir_b``
            lacks a stem (or does not exist).

    Returns:
        ``[(stem, path_a, path_b_or_None), ...]`` sorted by stem (or in the
        order of ``stems``).

    Raises:
        ValueError: naming every unpaired stem on each side, or an empty
            folder.
    """
    files_a = list_stems(dir_a, exts_a)
    if allow_missing_b and not osp.isdir(dir_b):
        files_b = {}
    else:
        files_b = list_stems(dir_b, exts_b)
    if stems is not None:
        missing = [s for s in stems if s not in files_a]
        if missing:
            raise ValueError(
                f'split lists {len(missing)} stem(s) with no {names[0]} in '
                f'{dir_a}: {_format_stems(missing)}')
        wanted = list(stems)
    else:
        wanted = sorted(files_a)
        only_b = set(files_b) - set(files_a)
        if only_b and not allow_missing_b:
            raise ValueError(
                f'{len(only_b)} {names[1]}(s) in {dir_b} have no {names[0]} '
                f'in {dir_a}: {_format_stems(only_b)}')
    if not wanted:
        raise ValueError(f'no {names[0]} files ({", ".join(exts_a)}) in '
                         f'{dir_a}')
    only_a = [s for s in wanted if s not in files_b]
    if only_a and not allow_missing_b:
        raise ValueError(f'{len(only_a)} {names[0]}(s) in {dir_a} have no '
                         f'{names[1]} in {dir_b}: {_format_stems(only_a)}')
    return [(s, files_a[s], files_b.get(s)) for s in wanted]


def read_image(path: str, flag: str = 'color') -> np.ndarray:
    """Read an image with OpenCV; error naming the file if it cannot be read.

    Args:
        flag: ``'color'`` -> uint8 RGB (H, W, 3); ``'grayscale'`` -> uint8
            (H, W); ``'unchanged'`` -> as stored (any depth/channels, BGR(A)
            order for colour); ``'unchanged_rgb'`` -> as stored, colour in
            RGB(A) order.
    """
    flags = {
        'color': cv2.IMREAD_COLOR,
        'grayscale': cv2.IMREAD_GRAYSCALE,
        'unchanged': cv2.IMREAD_UNCHANGED,
        'unchanged_rgb': cv2.IMREAD_UNCHANGED,
    }
    if not osp.isfile(path):
        raise FileNotFoundError(f'image not found: {path}')
    if osp.getsize(path) == 0:
        raise ValueError(f'{path}: file is empty (0 bytes)')
    img = cv2.imread(path, flags[flag])
    if img is None:
        raise ValueError(f'{path}: cannot be decoded as an image '
                         '(corrupt, truncated or unsupported format)')
    if flag == 'color':
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    elif flag == 'unchanged_rgb' and img.ndim == 3 and img.shape[2] >= 3:
        img = img[:, :, [2, 1, 0, *range(3, img.shape[2])]]
    return img


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file + rename in its folder."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder,
                               prefix=f'{TEMP_PREFIX}{os.getpid()}-',
                               suffix=osp.basename(path))
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp's 0600 -> usual mode
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_image(path: str, img: np.ndarray) -> None:
    """Encode ``img`` (uint8 grey (H, W) or RGB (H, W, 3)) by the extension
    of ``path`` and write it atomically."""
    if img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(osp.splitext(path)[1] or '.png', img)
    if not ok:
        raise ValueError(f'{path}: OpenCV could not encode the image')
    atomic_write_bytes(path, buf.tobytes())


def atomic_write_json(path: str, obj, **kwargs) -> None:
    """``json.dump`` to ``path`` atomically (indent=2 by default)."""
    kwargs.setdefault('indent', 2)
    atomic_write_bytes(path, json.dumps(obj, **kwargs).encode('utf-8'))


class NotWritableError(OSError):
    """An output folder cannot be created or written (the message names it;
    ``errno`` is that of the failed operation)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.errno = code


def _closest_existing(path: str) -> str:
    while path and not osp.lexists(path):
        parent = osp.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def ensure_writable_dir(path: str, what: str = 'output folder') -> str:
    """Create ``path`` (with parents) and check that a file can be written in
    it, so a tool stops at once instead of failing after its expensive work.

    The check writes and removes a temporary file, which is what counts
    (permission bits, ACLs, read-only mounts, a full disk, root) rather than
    :func:`os.access`.

    Args:
        path: the folder.
        what: how the error message calls it (``'--out folder'``...).

    Returns:
        the absolute path.

    Raises:
        NotWritableError: naming ``path`` and the reason (the closest
            existing parent when the folder cannot be created).
    """
    path = osp.abspath(path)
    if osp.lexists(path) and not osp.isdir(path):
        raise NotWritableError(errno.ENOTDIR,
                               f'{what} {path} exists and is not a folder')
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        parent = _closest_existing(osp.dirname(path))
        reason = e.strerror or str(e)
        if osp.lexists(parent) and not osp.isdir(parent):
            reason = f'{parent} is a file, not a folder'
        elif e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            reason = f'{reason}: {parent} is not writable'
        raise NotWritableError(
            e.errno, f'cannot create {what} {path} ({reason})') from None
    try:
        fd, probe = tempfile.mkstemp(dir=path,
                                     prefix=f'{TEMP_PREFIX}{os.getpid()}-')
        os.close(fd)
        os.remove(probe)
    except OSError as e:
        raise NotWritableError(
            e.errno, f'{what} {path} is not writable '
            f'({e.strerror or e})') from None
    return path


_TEMP_RE = re.compile(re.escape(TEMP_PREFIX) + r'(\d+)-')


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def remove_stale_temp_files(folder: str) -> List[str]:
    """Remove the atomic writers' temporary files in ``folder`` whose
    process is gone (a run killed between writing and renaming).

    Only ``.tmp-<pid>-*`` files of processes that no longer exist are
    removed, so a writer still running is never disturbed. Returns the
    removed paths.
    """
    removed = []
    if not osp.isdir(folder):
        return removed
    for name in os.listdir(folder):
        match = _TEMP_RE.match(name)
        path = osp.join(folder, name)
        if match and not _pid_alive(int(match.group(1))) and \
                osp.isfile(path):
            try:
                os.remove(path)
                removed.append(path)
            except FileNotFoundError:
                pass
    return removed


def ensure_symlink(src: str, dst: str) -> None:
    """Make ``dst`` a symlink to ``src`` (absolute; kept when it already
    points there).

    Raises:
        FileNotFoundError: ``src`` does not exist.
        FileExistsError: ``dst`` exists and is something else.
    """
    src = osp.abspath(src)
    if not osp.exists(src):
        raise FileNotFoundError(f'not found: {src}')
    if osp.islink(dst) and os.readlink(dst) == src:
        return
    if osp.lexists(dst):
        raise FileExistsError(f'{dst} exists and is not a link to {src}')
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    os.symlink(src, dst)


def file_sha256(path: str, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()
