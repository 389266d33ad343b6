"""File helpers shared by datasets, tools and hooks.

* :func:`pair_by_stem` — pair two folders (images/masks, predictions/ground
  truth) by file stem, with one error listing every unpaired stem.
* :func:`read_image` / :func:`read_mask` — decode with a clear error naming the
  file.
* :func:`atomic_write_bytes`, :func:`atomic_write_image`,
  :func:`atomic_write_json` — write to a temporary file in the same folder and
  rename, so a killed process never leaves a half-written file under its final
  name.
"""
import json
import os
import os.path as osp
import tempfile
from typing import Iterable, List, Optional, Sequence, Tuple

import cv2
import numpy as np

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')
MASK_EXTENSIONS = ('.png', '.bmp', '.tif', '.tiff', '.jpg', '.jpeg')


def list_stems(folder: str, extensions: Sequence[str]) -> dict:
    """Map file stem -> path for files in ``folder`` with one of ``extensions``.

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
            raise ValueError(f'split lists {len(missing)} stem(s) with no '
                             f'{names[0]} in {dir_a}: {_format_stems(missing)}')
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
            order for colour).
    """
    flags = {
        'color': cv2.IMREAD_COLOR,
        'grayscale': cv2.IMREAD_GRAYSCALE,
        'unchanged': cv2.IMREAD_UNCHANGED
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
    return img


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file + rename in its folder."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp-',
                               suffix=osp.basename(path))
    try:
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
