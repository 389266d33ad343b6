"""CRACK500 (Zhang et al. 2016; Yang et al. 2019) from the FPHBN release.

Release layout (the crops of github.com/fyangneil/pavement-crack-detection)::

    SRC/traincrop/<stem>.jpg + <stem>.png    side by side, 640x360 or
    SRC/valcrop/...                          360x640 patches
    SRC/testcrop/...

The masks are 1-bit PNGs (PIL mode ``'1'``), read as 0/255 and binarised
with :func:`~mmcrack.datasets.mask_utils.binarize_mask` (8-bit 0/255 copies
convert the same way; other values are counted as ``non_binary_pixels``).
A split folder that is absent is reported in the notes; at least one must
exist.
"""
import os.path as osp

from mmcrack.utils.file_io import pair_by_stem

from .common import ConversionError, Sample, convert
from .folders import decode_mask

CRACK500_SPLITS = (('train', 'traincrop'), ('val', 'valcrop'),
                   ('test', 'testcrop'))


def crack500_samples(src_dir: str) -> tuple:
    """``(samples, missing split folders)`` of a CRACK500 release.

    Images (``.jpg``) and masks (``.png``) of one folder are paired by stem
    with :func:`~mmcrack.utils.file_io.pair_by_stem`.

    Raises:
        ConversionError: no split folder, unpaired stems (all named).
    """
    samples, missing = [], []
    for split, name in CRACK500_SPLITS:
        folder = osp.join(src_dir, name)
        if not osp.isdir(folder):
            missing.append(name)
            continue
        try:
            pairs = pair_by_stem(folder, folder, ('.jpg', '.jpeg'),
                                 ('.png', ))
        except ValueError as e:
            raise ConversionError(f'split {split}: {e}') from None
        samples += [Sample(split, stem, img, mask)
                    for stem, img, mask in pairs]
    if len(missing) == len(CRACK500_SPLITS):
        raise ConversionError(
            f'{src_dir} is not a CRACK500 release: none of '
            f'{", ".join(n for _, n in CRACK500_SPLITS)} found')
    return samples, missing


def convert_crack500(src_dir: str, out_dir: str, force: bool = False) -> dict:
    """Convert the CRACK500 crops into mmcrack's layout.

    Args:
        src_dir: the release folder (``traincrop/``, ``valcrop/``,
            ``testcrop/``).
        out_dir: output dataset root.
        force: see :func:`~.common.convert`.

    Returns:
        the summary (also in ``out_dir/conversion.json``).
    """
    samples, missing = crack500_samples(src_dir)
    notes = ['masks: 1-bit PNG read as 0/255; crack where value >= 128']
    if missing:
        notes.append(f'split folder(s) not in the source: '
                     f'{", ".join(missing)}')
    return convert(samples, decode_mask, out_dir, dataset='CRACK500',
                   source=src_dir, options={}, force=force, notes=notes)
