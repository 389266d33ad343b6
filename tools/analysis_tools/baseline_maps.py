"""Reference crack maps every result must beat (DEVELOPERS.md sanity floor).

    python tools/analysis_tools/baseline_maps.py IMG_DIR OUT_DIR

OUT_DIR/darkness/<stem>.png: 255 - grey, min-max scaled per image (a soft
map; ODS 0.66 / OIS 0.78 / AP 0.73 on DeepCrack test, 0.33 / 0.39 / 0.21 on
CFD test). OUT_DIR/otsu/<stem>.png: global Otsu threshold of the grey image,
crack = the dark class (a binary map, 0/255).
"""
import argparse
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


def darkness_map(img_rgb: np.ndarray) -> np.ndarray:
    """255 - grey, min-max scaled to [0, 1] (float64 (H, W))."""
    dark = 255.0 - cv2.cvtColor(img_rgb, cv2.COLOR_RGB2GRAY).astype(np.float64)
    lo, hi = dark.min(), dark.max()
    return (dark - lo) / (hi - lo) if hi > lo else np.zeros_like(dark)


def otsu_map(img_rgb: np.ndarray) -> np.ndarray:
    """Global Otsu on grey; crack = below the threshold (bool (H, W))."""
    grey = cv2.cvtColor(img_rgb, cv2.COLOR_RGB2GRAY)
    if grey.min() == grey.max():
        return np.zeros(grey.shape, bool)
    return grey < threshold_otsu(grey)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('img_dir')
    parser.add_argument('out_dir')
    args = parser.parse_args(argv)
    images = list_stems(args.img_dir, IMG_EXTENSIONS)
    if not images:
        raise ValueError(f'no images in {args.img_dir}')
    for stem, path in sorted(images.items()):
        img = read_image(path, 'color')
        atomic_write_image(
            osp.join(args.out_dir, 'darkness', stem + '.png'),
            np.round(darkness_map(img) * 255).astype(np.uint8))
        atomic_write_image(osp.join(args.out_dir, 'otsu', stem + '.png'),
                           otsu_map(img).astype(np.uint8) * 255)
    print(f'{len(images)} images -> {args.out_dir}/darkness, '
          f'{args.out_dir}/otsu')


if __name__ == '__main__':
    main()
