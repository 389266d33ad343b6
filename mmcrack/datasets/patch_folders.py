"""Weak labels as users have them: class folders and image-level lists.

The file side of ``CrackPatchDataset(source='folders' | 'image_list')``:
which files there are, what class each one is, and that each can be read.
Nothing here opens a mask: the labels come from folder names or a list.

Class folders (``source='folders'``)
    ``class_dirs`` maps each class to folder names or glob patterns
    relative to the root (``data_prefix['img_path']``)::

        class_dirs = dict(crack=['Positive', 'crack', '*/C*'],
                          no_crack=['Negative', 'no_crack', '*/U*'])

    covers Özgenel's Concrete Crack Images (``Positive/``, ``Negative/``),
    SDNET2018 (``D/CD``, ``P/CP``, ``W/CW`` cracked; ``D/UD``, ``P/UP``,
    ``W/UW`` uncracked) and mmcrack's own ``crack/`` / ``no_crack/``. The
    entries of a class are alternatives: one that matches nothing is fine
    as long as the class matches at least one folder. Patterns are
    :func:`glob.glob` patterns (``recursive=True``, so ``**/crack``
    reaches any depth); only folders count, hidden ones are not matched.

    Images are listed **non-recursively** (the files directly in each
    matched folder, ``IMG_EXTENSIONS``): a recursive listing would
    silently pull in the sub-folders of another class or of derived
    material (thumbnails, crops); nested layouts are named with patterns
    instead. A sample's key is its path relative to the root without the
    extension (``Positive/00001``); split files (``ann_file``) list these
    keys, with or without extension, one per line.

Image-level lists (``source='image_list'``)
    A list file of ``stem,label`` lines beside an image folder (label
    ``crack`` | ``no_crack`` | ``1`` | ``0``, case-insensitive; blank lines,
    ``#`` comments and a ``stem,label`` header line are ignored; a stem may
    carry its extension). Images of the folder that the list does not
    name are not used.

Both: a ``holdout`` fraction of the keys (by a CRC-32 hash of the key, so
the assignment does not depend on listing order or on the other files)
forms ``subset='val'``, the rest ``subset='train'``; patches cut from one
photograph (as Özgenel's) may land on both sides.

Every problem found (no folder for a class, a folder of both classes, an
empty class folder, duplicate stems, a split or list naming missing files,
malformed list lines, unreadable images) is collected and raised as one
``ValueError`` naming all of them. Images are checked by their header
(format and size, read with PIL); a file whose pixel data is truncated
fails when it is loaded, with its name.
"""
import dataclasses
import glob
import logging
import os
import os.path as osp
import zlib
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.logging import print_log
from PIL import Image, UnidentifiedImageError

from mmcrack.utils.file_io import (
    IMG_EXTENSIONS,
    _format_stems,
    list_stems,
    read_split_file,
)

CLASSES = ('no_crack', 'crack')  # class index 1 = crack
CLASS_INDEX = {name: i for i, name in enumerate(CLASSES)}
DEFAULT_CLASS_DIRS = dict(crack=['Positive', 'crack', '*/C*'],
                          no_crack=['Negative', 'no_crack', '*/U*'])
LIST_LABELS = {'crack': 1, '1': 1, 'no_crack': 0, '0': 0}
SUBSETS = ('all', 'train', 'val')
MINORITY_WARNING_SHARE = 0.1


@dataclasses.dataclass
class FileIndex:
    """Labelled image files.

    Args:
        keys: one key per file (``Positive/00001`` or a list stem).
        paths: the files.
        labels: (N,) uint8, 1 = crack, 0 = no_crack.
        sizes: (N, 2) int32 ``(height, width)`` from the file headers.
    """
    keys: List[str]
    paths: List[str]
    labels: np.ndarray
    sizes: np.ndarray


class _Problems:
    """Problems collected while indexing, raised together."""

    def __init__(self, what: str):
        self.what = what
        self.items = []

    def add(self, text: str) -> None:
        self.items.append(text)

    def raise_if_any(self) -> None:
        if self.items:
            raise ValueError(
                f'{self.what}: {len(self.items)} problem(s):\n  - ' +
                '\n  - '.join(self.items))


def check_class_balance(counts: np.ndarray, what: str,
                        required: bool = True) -> None:
    """Refuse a missing class, warn about a rare one.

    Args:
        counts: (2,) samples per class (no_crack, crack).
        what: the dataset, as the messages name it.
        required: raise when a class has no sample (else only warn).

    Raises:
        ValueError: a class has no sample and ``required``.
    """
    total = int(counts.sum())
    rare = CLASSES[int(np.argmin(counts))]
    if required and counts.min() == 0:
        raise ValueError(f'{what}: no {rare!r} samples (no_crack '
                         f'{counts[0]}, crack {counts[1]}); both classes '
                         'are needed')
    share = counts.min() / max(total, 1)
    if total and share < MINORITY_WARNING_SHARE:
        print_log(
            f'{what}: class {rare!r} is only {100 * share:.1f} % of the '
            f'{total} patches (no_crack {counts[0]}, crack {counts[1]}); '
            'the classifier may learn to predict the other class only '
            '(balance the data or weight the loss)', logger='current',
            level=logging.WARNING)


def holdout_mask(keys: Sequence[str], fraction: float,
                 subset: str) -> np.ndarray:
    """Which keys belong to ``subset`` of a hash hold-out.

    A key is in ``'val'`` when ``crc32(key) / 2**32 < fraction``, else in
    ``'train'``; ``'all'`` keeps every key.

    Args:
        keys: sample keys (str).
        fraction: hold-out share in (0, 1) (ignored for ``'all'``).
        subset: ``'all'``, ``'train'`` or ``'val'``.

    Returns:
        (len(keys),) bool array.
    """
    if subset not in SUBSETS:
        raise ValueError(f'subset must be one of {SUBSETS}, got {subset!r}')
    if subset == 'all':
        return np.ones(len(keys), bool)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"subset={subset!r} needs 0 < holdout < 1, got "
                         f'{fraction}')
    u = np.array([zlib.crc32(k.encode('utf-8')) for k in keys],
                 np.float64) / 2.0**32
    return (u < fraction) if subset == 'val' else (u >= fraction)


def image_sizes(paths: Sequence[str],
                problems: _Problems) -> np.ndarray:
    """(N, 2) int32 ``(height, width)`` of each file from its header; an
    unreadable file is reported to ``problems`` (and gets size 0 x 0)."""
    sizes = np.zeros((len(paths), 2), np.int32)
    bad = []
    for i, path in enumerate(paths):
        try:
            if osp.getsize(path) == 0:
                raise ValueError('file is empty (0 bytes)')
            with Image.open(path) as im:
                w, h = im.size
            if w < 1 or h < 1:
                raise ValueError(f'size {w}x{h}')
            sizes[i] = h, w
        except UnidentifiedImageError:
            bad.append(f'{path} (not an image format PIL can identify)')
        except (OSError, ValueError, SyntaxError) as e:
            bad.append(f'{path} ({e})')
    if bad:
        problems.add(f'{len(bad)} unreadable image(s): ' +
                     _format_stems(bad, limit=10))
    return sizes


def _patterns(entries: Union[str, Sequence[str]]) -> List[str]:
    if isinstance(entries, str):
        return [entries]
    if isinstance(entries, (list, tuple)) and \
            all(isinstance(e, str) for e in entries):
        return list(entries)
    raise TypeError('class_dirs values must be a folder name / pattern or '
                    f'a list of them, got {entries!r}')


def _subfolders(root: str, limit: int = 12) -> str:
    try:
        names = sorted(n for n in os.listdir(root)
                       if osp.isdir(osp.join(root, n)) and
                       not n.startswith('.'))
    except OSError:
        return '(cannot be listed)'
    return _format_stems(names, limit) if names else '(none)'


def resolve_class_dirs(root: str, class_dirs: Dict[str, Sequence[str]],
                       problems: _Problems) -> Dict[str, List[str]]:
    """The folders of each class.

    Args:
        root: the folder the entries are relative to.
        class_dirs: ``{'crack': [...], 'no_crack': [...]}``: folder names
            or glob patterns (see the module doc).
        problems: collects an unknown or missing class, a class that
            matches no folder, and folders matched by both classes.

    Returns:
        ``{class name: sorted normalised folder paths}``.
    """
    unknown = sorted(set(class_dirs) - set(CLASSES))
    missing = [c for c in CLASSES if c not in class_dirs]
    if unknown or missing:
        problems.add(f'class_dirs must have exactly the keys {CLASSES}: '
                     f'unknown {unknown}, missing {missing}')
    base = glob.escape(root)
    found = {}
    for name in CLASSES:
        folders = set()
        patterns = _patterns(class_dirs.get(name, []))
        for pattern in patterns:
            for path in glob.glob(osp.join(base, pattern), recursive=True):
                if osp.isdir(path):
                    folders.add(osp.normpath(path))
        if not folders and name in class_dirs:
            problems.add(
                f'class {name!r}: no folder in {root} matches {patterns} '
                f'(sub-folders there: {_subfolders(root)})')
        found[name] = sorted(folders)
    both = sorted(set(found['crack']) & set(found['no_crack']))
    if both:
        problems.add(f'{len(both)} folder(s) matched by both classes: ' +
                     _format_stems(both, limit=10))
    return found


def _key(root: str, path: str) -> str:
    rel = osp.relpath(osp.splitext(path)[0], root)
    return rel.replace(os.sep, '/')


def index_class_folders(root: str,
                        class_dirs: Optional[Dict] = None,
                        split_file: Optional[str] = None,
                        holdout: float = 0.0,
                        subset: str = 'all') -> FileIndex:
    """Index the images of class folders (module doc).

    Args:
        root: the dataset folder the class map is relative to.
        class_dirs: the class map (default :data:`DEFAULT_CLASS_DIRS`).
        split_file: keys (relative paths, extension optional) to keep,
            one per line; a key that is not an image of a class folder is
            an error.
        holdout, subset: see :func:`holdout_mask`.

    Returns:
        :class:`FileIndex`, sorted by key (split-file order with a split
        file).

    Raises:
        ValueError: naming every problem found (module doc).
        FileNotFoundError: ``root`` or ``split_file`` does not exist.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'class-folder root not found: {root}')
    problems = _Problems(f'class folders in {root}')
    folders = resolve_class_dirs(
        root, DEFAULT_CLASS_DIRS if class_dirs is None else class_dirs,
        problems)
    files = {}  # key -> (path, label)
    for name in CLASSES:
        for folder in folders[name]:
            try:
                stems = list_stems(folder, IMG_EXTENSIONS)
            except ValueError as e:
                problems.add(str(e))
                continue
            if not stems:
                problems.add(
                    f'class {name!r} folder {folder} holds no images '
                    f'({", ".join(IMG_EXTENSIONS)}) directly (images are '
                    f'not searched in sub-folders: {_subfolders(folder)}; '
                    'name them in class_dirs, e.g. with the pattern '
                    f"'{_key(root, folder + '.x')}/*')")
            for path in stems.values():
                files[_key(root, path)] = (path, CLASS_INDEX[name])
    keys = sorted(files)
    if split_file is not None:
        listed = [k.replace(os.sep, '/') for k in read_split_file(split_file)]
        missing = [k for k in listed if k not in files]
        if missing:
            problems.add(f'split file {split_file} lists {len(missing)} '
                         'file(s) that are not images of a class folder: '
                         + _format_stems(missing))
        twice = sorted(k for k, n in Counter(listed).items() if n > 1)
        if twice:
            problems.add(f'split file {split_file} lists file(s) twice: ' +
                         _format_stems(twice))
        keys = list(dict.fromkeys(k for k in listed if k in files))
    keep = holdout_mask(keys, holdout, subset)
    keys = [k for k, ok in zip(keys, keep) if ok]
    paths = [files[k][0] for k in keys]
    sizes = image_sizes(paths, problems)
    problems.raise_if_any()
    return FileIndex(keys, paths,
                     np.array([files[k][1] for k in keys], np.uint8), sizes)


def read_image_list(list_file: str) -> Tuple[List[Tuple[str, int]],
                                             List[str]]:
    """Parse a ``stem,label`` list (module doc).

    Args:
        list_file: the list's path.

    Returns:
        ``([(stem, label 0/1), ...], [problem, ...])``: the entries in file
        order and one message per malformed line (with its number) or
        repeated stem.

    Raises:
        FileNotFoundError: no such file.
    """
    if not osp.isfile(list_file):
        raise FileNotFoundError(f'image list not found: {list_file}')
    entries, bad, seen = [], [], {}
    with open(list_file, encoding='utf-8') as f:
        lines = f.read().splitlines()
    header_done = False
    for number, raw in enumerate(lines, 1):
        line = raw.split('#', 1)[0].strip()
        if not line:
            continue
        fields = [p.strip() for p in line.split(',')]
        if not header_done:
            header_done = True
            if [p.lower() for p in fields] == ['stem', 'label']:
                continue
        if len(fields) != 2 or not fields[0] or \
                fields[1].lower() not in LIST_LABELS:
            bad.append(f'line {number}: {raw.strip()!r}')
            continue
        stem, ext = osp.splitext(fields[0])
        if ext.lower() not in IMG_EXTENSIONS:
            stem = fields[0]
        if stem in seen:
            bad.append(f'line {number}: stem {stem!r} already on line '
                       f'{seen[stem]}')
            continue
        seen[stem] = number
        entries.append((stem, LIST_LABELS[fields[1].lower()]))
    problems = []
    if bad:
        problems.append(
            f'{list_file}: {len(bad)} malformed line(s) (expected '
            "'stem,label' with label crack, no_crack, 1 or 0): " +
            '; '.join(bad[:20]) +
            (f'; … ({len(bad)} in all)' if len(bad) > 20 else ''))
    return entries, problems


def index_image_list(img_dir: str,
                     list_file: str,
                     holdout: float = 0.0,
                     subset: str = 'all') -> FileIndex:
    """Index an image folder labelled by a ``stem,label`` list.

    Args:
        img_dir: the image folder (files found by stem, not recursively).
        list_file: the list (:func:`read_image_list`).
        holdout, subset: see :func:`holdout_mask`.

    Returns:
        :class:`FileIndex` in list order.

    Raises:
        ValueError: naming every problem (malformed lines, stems with no
            image, duplicate stems in the folder, unreadable images, an
            empty list).
        FileNotFoundError: ``img_dir`` or ``list_file`` does not exist.
    """
    problems = _Problems(f'image list {list_file}')
    entries, bad = read_image_list(list_file)
    for text in bad:
        problems.add(text)
    files = {}
    try:
        files = list_stems(img_dir, IMG_EXTENSIONS)
    except ValueError as e:
        problems.add(str(e))
    missing = [s for s, _ in entries if s not in files]
    if missing and files:
        problems.add(f'{len(missing)} listed stem(s) have no image in '
                     f'{img_dir}: ' + _format_stems(missing))
    entries = [(s, lab) for s, lab in entries if s in files]
    if not entries and not problems.items:
        problems.add('the list names no image')
    keep = holdout_mask([s for s, _ in entries], holdout, subset)
    entries = [e for e, ok in zip(entries, keep) if ok]
    paths = [files[s] for s, _ in entries]
    sizes = image_sizes(paths, problems)
    problems.raise_if_any()
    return FileIndex([s for s, _ in entries], paths,
                     np.array([lab for _, lab in entries], np.uint8), sizes)
