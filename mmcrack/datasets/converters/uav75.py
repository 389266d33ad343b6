"""UAV75 (Benz et al. 2019) from its official release.

Release layout (github.com/ben-z-original/uav75)::

    SRC/{train,val,test}_img/<stem>.jpg    512x512 RGB
    SRC/{train,val,test}_lab/<stem>.png    RGBA, grey labels

Label grey values: 0 = background, 204 = planking (formwork joints,
annotated by area: a deliberate false-positive trap), 255 = crack (1–2 px
lines). Any other value is an error. Outputs:

* ``masks/<split>/<stem>.png``: crack = 255 only (planking is background);
* ``classes/<split>/<stem>.png``: the 3-class map, 0 = background,
  1 = planking, 2 = crack (for measuring false positives on planking).

The alpha channel is ignored; R, G and B must be equal.
"""
import os.path as osp

import numpy as np

from .common import ConversionError, Converted, convert
from .folders import folder_samples
from .labels import crack_mask, read_label

UAV75_SPLITS = ('train', 'val', 'test')
UAV75_GREY = {0: 0, 204: 1, 255: 2}  # grey value -> class id
UAV75_CLASSES = ('background', 'planking', 'crack')
CLASS_DIR = 'classes'


def decode_uav75(path: str) -> Converted:
    """UAV75 label -> crack mask plus the 3-class map.

    Args:
        path: an RGBA (or grey) PNG with grey values 0 / 204 / 255.

    Returns:
        :class:`~.common.Converted`: uint8 (H, W) {0, 255} crack mask,
        ``extra['classes']`` uint8 (H, W) in {0, 1, 2} and
        ``stats['planking_pixels']``.

    Raises:
        ValueError: naming ``path``: unreadable, colour, other values.
    """
    grey = read_label(path)
    unknown = np.setdiff1d(grey, list(UAV75_GREY))
    if unknown.size:
        raise ValueError(f'{path}: label holds grey values '
                         f'{", ".join(str(v) for v in unknown[:8])}; only 0 '
                         '(background), 204 (planking) and 255 (crack) are '
                         'known')
    classes = np.zeros(grey.shape, np.uint8)
    for value, cls in UAV75_GREY.items():
        classes[grey == value] = cls
    return Converted(crack_mask(grey == 255),
                     extra={CLASS_DIR: classes},
                     stats=dict(planking_pixels=int(np.sum(classes == 1))))


def convert_uav75(src_dir: str, out_dir: str, force: bool = False) -> dict:
    """Convert a UAV75 release into mmcrack's layout (+ ``classes/``).

    Args:
        src_dir: the release folder (``train_img/``, ``train_lab/``, ...).
        out_dir: output dataset root.
        force: see :func:`~.common.convert`.

    Returns:
        the summary (also in ``out_dir/conversion.json``).
    """
    pairs = [(s, osp.join(src_dir, f'{s}_img'), osp.join(src_dir, f'{s}_lab'))
             for s in UAV75_SPLITS]
    present = [p for p in pairs if osp.isdir(p[1]) or osp.isdir(p[2])]
    if not present:
        raise ConversionError(
            f'{src_dir} is not a UAV75 release: no train_img/ train_lab/ '
            'val_img/ ... folders')
    missing = [p[0] for p in pairs if p not in present]
    notes = ['masks/: crack = grey 255 only; planking (204) is background',
             'classes/<split>/<stem>.png: 0 = background, 1 = planking '
             '(formwork joints, annotated by area: a false-positive trap), '
             '2 = crack']
    if missing:
        notes.append(f'split(s) not in the source: {", ".join(missing)}')
    return convert(
        folder_samples(present, ('.png', )), decode_uav75, out_dir,
        dataset='UAV75', source=src_dir, options={}, force=force,
        notes=notes,
        layout={CLASS_DIR: 'classes/<split>/<stem>.png: 0 = background, '
                '1 = planking, 2 = crack'})
