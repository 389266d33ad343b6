"""Measure each crack of a folder of masks or probability maps.

    python tools/measure_cracks.py MASK_OR_PROB_DIR --out DIR
        [--threshold T] [--px-size MM] [--min-length PX] [--bridge PX]
        [--images IMG_DIR]

Maps: 8-bit grey images (0/255 masks, or probability v/255) or float .npy
in [0, 1]; crack where probability >= T (default 0.5). Writes
DIR/cracks.csv (one row per crack: length, max / mean width, area,
orientation, branching, junctions, endpoints, bounding box; mm columns with
--px-size), DIR/summary/<stem>.json and DIR/overlay/<stem>.png (over the
--images photo of the same stem, else over the map). Definitions:
docs/measurement.md.
"""
import argparse
import os.path as osp
import sys

try:
    import mmcrack  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmcrack.analysis.folder_measure import (
    check_measure_options,
    measure_folder,
)
from mmcrack.utils.file_io import NotWritableError, ensure_writable_dir


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='length, width, orientation and branching of each '
        'crack of a folder of masks / probability maps')
    parser.add_argument('map_dir', help='folder of masks or probability '
                        'maps (8-bit PNG 0-255, or float .npy in [0, 1])')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--threshold', type=float, default=0.5,
                        help='crack where probability >= T (default 0.5)')
    parser.add_argument('--px-size', type=float, default=None, metavar='MM',
                        help='mm per pixel: adds length_mm, max_width_mm, '
                        'mean_width_mm, area_mm2')
    parser.add_argument('--min-length', type=float, default=0.0,
                        metavar='PX', help='drop cracks shorter than PX')
    parser.add_argument('--bridge', type=float, default=0.0, metavar='PX',
                        help='one crack for pieces at most PX apart')
    parser.add_argument('--images', default=None, metavar='IMG_DIR',
                        help='photos to draw the overlays on (by stem)')
    parser.add_argument('--alligator-junctions', type=int, default=3,
                        metavar='N', help='branching when a crack has at '
                        'least N skeleton junctions (default 3)')
    parser.add_argument('--longitudinal-axis', choices=('x', 'y'),
                        default='y', help='image axis along the road '
                        '(default y)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out = ensure_writable_dir(args.out, '--out folder')  # before any work
    check_measure_options(args.threshold, args.px_size, args.min_length,
                          args.bridge)
    result = measure_folder(
        args.map_dir, out, threshold=args.threshold, px_size=args.px_size,
        min_length=args.min_length, bridge=args.bridge, images=args.images,
        alligator_junctions=args.alligator_junctions,
        longitudinal_axis=args.longitudinal_axis)
    total = sum(s['total_length_px'] for s in result['summaries'].values())
    print(f'{len(result["summaries"])} image(s), {len(result["rows"])} '
          f'crack(s), total length {total:.1f} px -> {result["csv"]}')


if __name__ == '__main__':
    try:
        main()
    except (NotWritableError, ValueError, FileNotFoundError) as e:
        sys.exit(f'measure_cracks: error: {e}')
