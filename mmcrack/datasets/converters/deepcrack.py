"""DeepCrack (Liu et al. 2019) from its official release.

300 train and 237 test JPEG images with PNG 0/255 labels. Copies of the
release name the folders differently; the known layouts are detected::

    SRC/train_img  SRC/train_lab  SRC/test_img  SRC/test_lab
    SRC/train/image  SRC/train/label  SRC/test/test_img  SRC/test/test_lab

or the four folders are given (``folders``). Labels are binarised with
:func:`~mmcrack.datasets.mask_utils.binarize_mask` (crack where value
>= 128; they are 0/255 in the release, and the summary counts any other
value as ``non_binary_pixels``). Ten stems (``11289-1`` … ``11289-10``)
exist in both splits as different crops, so the splits stay separate
folders and the summary names the shared stems.
"""
import os.path as osp
from typing import Optional, Sequence

from .common import ConversionError, convert
from .folders import decode_mask, folder_samples

DEEPCRACK_LAYOUTS = (
    ('train_img', 'train_lab', 'test_img', 'test_lab'),
    ('train/image', 'train/label', 'test/test_img', 'test/test_lab'),
)


def find_deepcrack_folders(src_dir: str,
                           folders: Optional[Sequence[str]] = None) -> list:
    """``[(split, image folder, label folder)]`` of a DeepCrack release.

    Args:
        src_dir: the release folder.
        folders: ``(train images, train labels, test images, test labels)``
            relative to ``src_dir`` (or absolute); default: the first of
            :data:`DEEPCRACK_LAYOUTS` whose four folders all exist.

    Raises:
        ConversionError: no known layout, or a given folder is missing.
    """
    if folders is None:
        for layout in DEEPCRACK_LAYOUTS:
            if all(osp.isdir(osp.join(src_dir, f)) for f in layout):
                folders = layout
                break
        else:
            known = '; '.join(' '.join(layout) for layout in DEEPCRACK_LAYOUTS)
            raise ConversionError(
                f'{src_dir}: no known DeepCrack layout (looked for: {known});'
                ' give the four folders with --folders TRAIN_IMG TRAIN_LAB '
                'TEST_IMG TEST_LAB')
    if len(folders) != 4:
        raise ConversionError(f'give four folders (train images, train '
                              f'labels, test images, test labels), got '
                              f'{len(folders)}')
    paths = [osp.join(src_dir, f) for f in folders]
    missing = [p for p in paths if not osp.isdir(p)]
    if missing:
        raise ConversionError(f'folder(s) not found: {", ".join(missing)}')
    return [('train', paths[0], paths[1]), ('test', paths[2], paths[3])]


def convert_deepcrack(src_dir: str,
                      out_dir: str,
                      folders: Optional[Sequence[str]] = None,
                      force: bool = False) -> dict:
    """Convert a DeepCrack release into mmcrack's layout.

    Args:
        src_dir: the release folder.
        out_dir: output dataset root.
        folders: the four folders (see :func:`find_deepcrack_folders`).
        force: see :func:`~.common.convert`.

    Returns:
        the summary (also in ``out_dir/conversion.json``).
    """
    pairs = find_deepcrack_folders(src_dir, folders)
    samples = folder_samples(pairs)
    by_split = {}
    for s in samples:
        by_split.setdefault(s.split, set()).add(s.stem)
    shared = sorted(by_split.get('train', set()) &
                    by_split.get('test', set()))
    notes = ['labels: crack where value >= 128 (0/255 in the release)']
    if shared:
        notes.append(f'{len(shared)} stem(s) exist in both splits (different'
                     f' crops; kept in their split folders): '
                     f'{", ".join(shared)}')
    return convert(
        samples, decode_mask, out_dir,
        dataset='DeepCrack',
        source=src_dir,
        options=dict(folders={s: dict(images=osp.relpath(i, src_dir),
                                      labels=osp.relpath(m, src_dir))
                              for s, i, m in pairs}),
        force=force,
        notes=notes)
