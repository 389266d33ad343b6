"""Reference crack maps every result must beat: the sanity floors.

* **darkness map** — ``255 - grey``, min-max scaled per image: cracks are
  darker than their surroundings, so this map alone scores ODS 0.66 /
  OIS 0.78 / AP 0.73 on DeepCrack test and 0.33 / 0.39 / 0.21 on CFD test
  (docs/baselines.md).
* **global Otsu** — crack = the dark class of one Otsu threshold on the grey
  image (binary).

``tools/analysis_tools/baseline_maps.py IMG_DIR OUT_DIR`` writes both for a
folder; the pipelines score them beside every model.
"""
import os.path as osp

import cv2
import numpy as np
from skimage.filters import threshold_otsu

from mmcrack.utils.file_io import (
    IMG_EXTENSIONS,
    atomic_write_image,
    list_stems,
    read_image,
)

#: Sub-folders of :func:`write_baseline_maps`, by baseline name.
BASELINES = {'darkness': 'darkness', 'global Otsu': 'otsu'}


def darkness_map(img_rgb: np.ndarray) -> np.ndarray:
    """``255 - grey``, min-max scaled per image.

    Args:
        img_rgb: uint8 (H, W, 3) RGB.

    Returns:
        float64 (H, W) in [0, 1] (all 0 for a flat image).
    """
    dark = 255.0 - cv2.cvtColor(img_rgb, cv2.COLOR_RGB2GRAY).astype(np.float64)
    lo, hi = dark.min(), dark.max()
    return (dark - lo) / (hi - lo) if hi > lo else np.zeros_like(dark)


def otsu_map(img_rgb: np.ndarray) -> np.ndarray:
    """Global Otsu on grey; crack = below the threshold.

    Args:
        img_rgb: uint8 (H, W, 3) RGB.

    Returns:
        bool (H, W) (all False for a flat image).
    """
    grey = cv2.cvtColor(img_rgb, cv2.COLOR_RGB2GRAY)
    if grey.min() == grey.max():
        return np.zeros(grey.shape, bool)
    return grey < threshold_otsu(grey)


def write_baseline_maps(img_dir: str, out_dir: str) -> int:
    """Write ``out_dir/darkness/<stem>.png`` (darkness x 255) and
    ``out_dir/otsu/<stem>.png`` (0/255) for every image of ``img_dir``,
    atomically. Returns the number of images."""
    images = list_stems(img_dir, IMG_EXTENSIONS)
    if not images:
        raise ValueError(f'no images in {img_dir}')
    for stem, path in sorted(images.items()):
        img = read_image(path, 'color')
        atomic_write_image(
            osp.join(out_dir, BASELINES['darkness'], stem + '.png'),
            np.round(darkness_map(img) * 255).astype(np.uint8))
        atomic_write_image(
            osp.join(out_dir, BASELINES['global Otsu'], stem + '.png'),
            otsu_map(img).astype(np.uint8) * 255)
    return len(images)
