"""Label files -> arrays: the decoding shared by the dataset converters.

:func:`read_label` decodes any label image into the one grey channel a
person sees (1-bit, grey, grey RGB(A), palette); :func:`image_size` proves
that a file decodes in full. Errors name the file.
"""
import os.path as osp

import numpy as np
from PIL import Image


def image_size(path: str) -> tuple:
    """(W, H) of an image after a full decode (truncated files fail).

    Raises:
        ValueError: naming ``path`` (missing, empty or undecodable file).
    """
    if not osp.isfile(path):
        raise ValueError(f'{path}: file not found')
    if osp.getsize(path) == 0:
        raise ValueError(f'{path}: file is empty (0 bytes)')
    try:
        with Image.open(path) as im:
            im.load()
            return im.size
    except Exception as e:  # PIL raises several types for bad files
        raise ValueError(f'{path}: cannot be decoded as an image '
                         f'({type(e).__name__}: {e})') from None


def _grey_or_raise(rgb: np.ndarray, path: str, what: str) -> np.ndarray:
    if (rgb[..., 0] == rgb[..., 1]).all() and \
            (rgb[..., 1] == rgb[..., 2]).all():
        return rgb[..., 0]
    raise ValueError(f'{path}: {what} label whose colour channels differ; '
                     'a grey label (R = G = B) was expected')


def read_label(path: str) -> np.ndarray:
    """Decode a label image into one 8-bit channel, as a person sees it.

    * 1-bit (PIL mode ``'1'``): 0 / 255.
    * 8-bit grey: the values; grey + alpha: the grey values.
    * 16-bit grey: the values, which must not exceed 255.
    * RGB / RGBA: the common value of R = G = B (alpha is ignored); an error
      if the channels differ, except in a JPEG file, which is converted to
      luminance (its chroma is noise).
    * palette: the grey colour of each index if the palette is grey, else
      the indices (class ids).

    Args:
        path: a PNG, JPEG, BMP or TIFF file.

    Returns:
        uint8 array (H, W) with values in 0..255.

    Raises:
        ValueError: naming ``path``: missing, empty, undecodable, a colour
            label, 16-bit values above 255, an unsupported mode.
    """
    image_size(path)  # full decode with a clear error
    with Image.open(path) as im:
        mode, fmt = im.mode, im.format
        if mode == '1':
            return np.asarray(im, dtype=bool).astype(np.uint8) * 255
        if mode == 'L':
            return np.asarray(im, dtype=np.uint8).copy()
        if mode in ('LA', 'La'):
            return np.asarray(im.getchannel(0), dtype=np.uint8).copy()
        if mode.startswith('I'):
            arr = np.asarray(im)
            if arr.max(initial=0) > 255 or arr.min(initial=0) < 0:
                raise ValueError(f'{path}: {mode} label with values outside '
                                 '0..255 (only 8-bit labels are supported)')
            return arr.astype(np.uint8)
        if mode == 'P':
            rgb = np.asarray(im.convert('RGB'))
            try:
                return _grey_or_raise(rgb, path, 'palette')
            except ValueError:
                return np.asarray(im, dtype=np.uint8).copy()
        if mode in ('RGB', 'RGBA', 'RGBX', 'CMYK', 'YCbCr'):
            if fmt == 'JPEG':
                return np.asarray(im.convert('L'), dtype=np.uint8).copy()
            rgb = np.asarray(im.convert('RGB'))
            return _grey_or_raise(rgb, path, mode)
    raise ValueError(f'{path}: unsupported label image mode {mode!r}')


def non_binary_pixels(grey: np.ndarray) -> int:
    """Number of pixels of a uint8 (H, W) label that are neither 0 nor
    255."""
    return int(grey.size - np.count_nonzero((grey == 0) | (grey == 255)))


def crack_mask(binary: np.ndarray) -> np.ndarray:
    """(H, W) {0, 1} (or bool) labels -> uint8 {0, 255} mask."""
    return (np.asarray(binary) > 0).astype(np.uint8) * 255
