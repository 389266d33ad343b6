"""CrackForest (CFD, Shi et al. 2016) from its official release.

Release layout (github.com/cuilimeng/CrackForest-dataset)::

    SRC/image/NNN.jpg           480x320 RGB JPEG
    SRC/groundTruth/NNN.mat     MATLAB cell groundTruth{1}, a struct whose
                                field Segmentation is a region label map

``Segmentation`` labels: 1 = background, 2 = crack, 3 = background enclosed
by crack loops, 4 = extra thin crack segments. The mask is
``crack = Segmentation in {2, 4}``; label 3 is background (painting it
would add the blocks between alligator cracks). Any other value is an error.

* Split (default, that of the published weakly-supervised code): test =
  073–118, val = 004 009 019 039 053 062 068, train = the rest;
  ``single_split`` puts every image in one split instead.
* 042 has a wrong ground truth (the annotation does not match the image):
  skipped unless ``keep_042`` (it then goes to train).
* Images without a ``.mat`` (201–208, 301–329 in the release) are skipped
  with the reason; a ``.mat`` without an image is an error.
"""
import os.path as osp
from typing import Optional

import numpy as np
import scipy.io

from mmcrack.utils.file_io import IMG_EXTENSIONS, list_stems, pair_by_stem

from .common import ConversionError, Converted, Sample, convert
from .labels import crack_mask

CFD_LABELS = {1: 'background', 2: 'crack', 3: 'enclosed background',
              4: 'extra crack segment'}
CRACK_LABELS = (2, 4)
CFD_TEST = tuple(f'{n:03d}' for n in range(73, 119))
CFD_VAL = ('004', '009', '019', '039', '053', '062', '068')
CFD_WRONG_GT = ('042', )


def cfd_split(stem: str) -> str:
    """The default split of a CFD stem: ``'test'`` (073–118), ``'val'``
    (004 009 019 039 053 062 068) or ``'train'`` (every other stem)."""
    if stem in CFD_TEST:
        return 'test'
    return 'val' if stem in CFD_VAL else 'train'


def _find_segmentation(obj, depth: int = 0) -> Optional[np.ndarray]:
    """First ``Segmentation`` field found in nested cells / structs."""
    if depth > 10:
        return None
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key.lower() == 'segmentation':
                return np.asarray(value)
        values = [v for k, v in obj.items() if not k.startswith('__')]
    elif isinstance(obj, np.ndarray) and obj.dtype.names:
        for name in obj.dtype.names:
            if name.lower() == 'segmentation':
                return _unwrap(obj[name])
        values = [obj[n] for n in obj.dtype.names]
    elif isinstance(obj, np.ndarray) and obj.dtype == object:
        values = list(obj.flat)
    elif isinstance(obj, (list, tuple)):
        values = list(obj)
    else:
        return None
    for value in values:
        found = _find_segmentation(value, depth + 1)
        if found is not None:
            return found
    return None


def _unwrap(arr) -> np.ndarray:
    """Strip 1x1 object wrappers around an array."""
    arr = np.asarray(arr)
    while arr.dtype == object and arr.size == 1:
        arr = np.asarray(arr.flat[0])
    return arr


def load_segmentation(path: str) -> np.ndarray:
    """The ``Segmentation`` label map of a CFD ``groundTruth`` ``.mat``.

    Reads ``groundTruth{1}.Segmentation`` whatever the nesting that
    :func:`scipy.io.loadmat` returns (cell of structs, squeezed or not); the
    variable ``groundTruth`` is preferred, else the first variable holding a
    ``Segmentation`` field. With several annotations (a 1xN cell) the first
    is used, as in the release.

    Args:
        path: a ``.mat`` file (MATLAB v5, as in the release).

    Returns:
        int64 array (H, W), the region labels (1..4 in the release).

    Raises:
        ValueError: naming ``path``: unreadable file, no ``Segmentation``
            field, a field that is not a 2-D integer map.
    """
    try:
        mat = scipy.io.loadmat(path, simplify_cells=True)
    except Exception as e:  # scipy raises several types for bad files
        raise ValueError(f'{path}: cannot be read as a MATLAB file '
                         f'({type(e).__name__}: {e})') from None
    names = [k for k in mat if not k.startswith('__')]
    names.sort(key=lambda k: k != 'groundTruth')
    seg = None
    for name in names:
        seg = _find_segmentation(mat[name])
        if seg is not None:
            break
    if seg is None:
        raise ValueError(f'{path}: no groundTruth{{1}}.Segmentation field '
                         f'(variables: {", ".join(names) or "none"})')
    seg = _unwrap(seg)
    if seg.ndim != 2 or not np.issubdtype(seg.dtype, np.number) or \
            not np.array_equal(seg, np.round(seg)):
        raise ValueError(f'{path}: Segmentation is not a 2-D integer label '
                         f'map (shape {seg.shape}, dtype {seg.dtype})')
    return seg.astype(np.int64)


def decode_cfd(path: str) -> Converted:
    """CFD ``.mat`` -> crack mask (Segmentation 2 or 4).

    Args:
        path: a ``groundTruth/NNN.mat`` file.

    Returns:
        :class:`~.common.Converted` with the uint8 (H, W) {0, 255} mask and
        ``stats``: ``enclosed_background_pixels`` (label 3) and
        ``extra_crack_pixels`` (label 4).

    Raises:
        ValueError: see :func:`load_segmentation`; a label outside 1..4.
    """
    seg = load_segmentation(path)
    unknown = np.setdiff1d(seg, list(CFD_LABELS))
    if unknown.size:
        raise ValueError(f'{path}: Segmentation holds labels '
                         f'{", ".join(str(v) for v in unknown[:8])}; only '
                         '1 (background), 2 (crack), 3 (enclosed background)'
                         ' and 4 (extra crack) are known')
    return Converted(
        crack_mask(np.isin(seg, CRACK_LABELS)),
        stats=dict(enclosed_background_pixels=int(np.sum(seg == 3)),
                   extra_crack_pixels=int(np.sum(seg == 4))))


def cfd_samples(src_dir: str,
                keep_042: bool = False,
                single_split: Optional[str] = None) -> tuple:
    """Samples and skipped items of a CFD release folder.

    Args:
        src_dir: folder holding ``image/`` and ``groundTruth/``.
        keep_042: convert 042 (wrong ground truth) too.
        single_split: put every image in this split instead of the default.

    Returns:
        ``(samples, skipped)``: :class:`~.common.Sample` list and
        ``{'item', 'reason'}`` dicts.

    Raises:
        ConversionError: missing folders, ``.mat`` files without an image.
    """
    img_dir = osp.join(src_dir, 'image')
    gt_dir = osp.join(src_dir, 'groundTruth')
    missing = [d for d in (img_dir, gt_dir) if not osp.isdir(d)]
    if missing:
        raise ConversionError(
            f'{src_dir} is not a CrackForest release: missing '
            f'{", ".join(missing)} (expected image/NNN.jpg and '
            'groundTruth/NNN.mat)')
    try:
        pairs = pair_by_stem(img_dir, gt_dir, IMG_EXTENSIONS, ('.mat', ),
                             names=('image', 'ground truth'),
                             allow_missing_b=True)
        mats = list_stems(gt_dir, ('.mat', ))
    except ValueError as e:
        raise ConversionError(str(e)) from None
    orphans = sorted(set(mats) - {stem for stem, _, _ in pairs})
    if orphans:
        raise ConversionError(
            f'{len(orphans)} ground truth file(s) in {gt_dir} have no image '
            f'in {img_dir}: {", ".join(orphans)}')
    samples, skipped = [], []
    for stem, img, mat in pairs:
        rel = osp.relpath(img, src_dir)
        if mat is None:
            skipped.append(dict(item=rel, reason='no ground truth (.mat)'))
        elif stem in CFD_WRONG_GT and not keep_042:
            skipped.append(dict(
                item=rel, reason='wrong ground truth (the annotation does '
                'not match the image); --keep-042 converts it'))
        else:
            samples.append(
                Sample(single_split or cfd_split(stem), stem, img, mat))
    return samples, skipped


def convert_cfd(src_dir: str,
                out_dir: str,
                keep_042: bool = False,
                single_split: Optional[str] = None,
                force: bool = False) -> dict:
    """Convert a CrackForest release into mmcrack's layout.

    Args:
        src_dir: the release folder (``image/``, ``groundTruth/``).
        out_dir: output dataset root.
        keep_042: also convert 042, whose ground truth is wrong.
        single_split: one split of this name instead of train/val/test.
        force: see :func:`~.common.convert`.

    Returns:
        the summary (also in ``out_dir/conversion.json``).
    """
    samples, skipped = cfd_samples(src_dir, keep_042, single_split)
    split_text = (f'all images in split {single_split}' if single_split
                  else 'split of the published weakly-supervised code: '
                  'test = 073–118, val = 004 009 019 039 053 062 068, '
                  'train = the rest')
    return convert(
        samples, decode_cfd, out_dir,
        dataset='CFD',
        source=src_dir,
        options=dict(keep_042=keep_042, single_split=single_split),
        force=force,
        skipped=skipped,
        notes=['mask = groundTruth{1}.Segmentation in {2 (crack), 4 (extra '
               'crack)}; 1 and 3 (background enclosed by crack loops) are '
               'background', split_text])
