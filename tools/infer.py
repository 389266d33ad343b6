"""Crack maps for images with a trained segmentation model.

    python tools/infer.py CONFIG CKPT IMG_OR_DIR --out DIR [--threshold T]
        [--device cpu|cuda] [--slide CROP STRIDE] [--tile SIZE]
        [--overlap PX]
        [--measure [--px-size MM] [--min-length PX]]

Writes DIR/prob/<stem>.png (probability x 255), DIR/mask/<stem>.png (0/255
at the threshold: given, else the ODS threshold stored with the checkpoint's
validation, else 0.5) and DIR/overlay/<stem>.jpg. Images with a side
larger than --tile (default 1024 px; 0: never) are predicted in tiles
overlapping by --overlap px (default 64), blended without seams (memory:
one tile's activations plus the image's map; docs/large_images.md). With
--measure, also
DIR/measure/: each crack's length, width, orientation and branching
(cracks.csv, summary/, overlay/; see docs/measurement.md).
"""
import argparse
import os.path as osp
import sys

from mmcrack.analysis.folder_measure import (
    check_measure_options,
    measure_folder,
)
from mmcrack.apis import CrackInferencer
from mmcrack.apis.tiled_prediction import tile_starts
from mmcrack.utils.file_io import NotWritableError, ensure_writable_dir


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('inputs', help='an image file or a folder of images')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--threshold', type=float)
    parser.add_argument('--device', help='cpu, cuda, cuda:N (default: auto)')
    parser.add_argument('--slide', type=int, nargs=2,
                        metavar=('CROP', 'STRIDE'),
                        help="mmseg's sliding-window test mode")
    parser.add_argument('--tile', type=int, default=1024, metavar='SIZE',
                        help='predict images with a side larger than SIZE '
                        'px in blended SIZE x SIZE tiles (default 1024; 0: '
                        'always whole images)')
    parser.add_argument('--overlap', type=int, default=64, metavar='PX',
                        help='pixels shared by neighbouring tiles '
                        '(default 64)')
    parser.add_argument('--measure', action='store_true',
                        help='measure each crack of the masks '
                        '(DIR/measure/cracks.csv, summary/, overlay/)')
    parser.add_argument('--px-size', type=float, metavar='MM',
                        help='with --measure: mm per pixel (mm columns)')
    parser.add_argument('--min-length', type=float, default=0.0,
                        metavar='PX',
                        help='with --measure: drop cracks shorter than PX')
    return parser.parse_args()


def main():
    args = parse_args()
    ensure_writable_dir(args.out, '--out folder')  # before loading the model
    if args.measure:
        try:
            check_measure_options(px_size=args.px_size,
                                  min_length=args.min_length)
        except ValueError as e:
            sys.exit(f'infer: error: {e}')
    if args.tile:  # check the tile sizes before loading the model
        try:
            tile_starts(args.tile + 1, args.tile, args.overlap)
        except ValueError as e:
            sys.exit(f'infer: error: --tile/--overlap: {e}')
    inferencer = CrackInferencer(
        args.config, args.checkpoint, args.device, args.threshold,
        tuple(args.slide) if args.slide else None, tile=args.tile,
        overlap=args.overlap)
    results = inferencer(args.inputs, out_dir=args.out, return_maps=False)
    print(f'\n{len(results)} image(s) -> {args.out} (threshold '
          f'{inferencer.threshold:.2f}, {inferencer.threshold_source})')
    if args.measure:  # the written masks, at the inferencer's threshold
        measured = measure_folder(
            osp.join(args.out, 'mask'), osp.join(args.out, 'measure'),
            threshold=inferencer.threshold, px_size=args.px_size,
            min_length=args.min_length, images=args.inputs,
            stems=[r['name'] for r in results])
        print(f'{len(measured["rows"])} crack(s) measured -> '
              f'{measured["csv"]}')


if __name__ == '__main__':
    try:
        main()
    except (NotWritableError, FileNotFoundError, FileExistsError, KeyError,
            ValueError) as e:
        sys.exit(f'infer: error: {e}')
