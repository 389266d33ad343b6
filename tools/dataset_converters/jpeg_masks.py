"""Convert image folders whose masks are JPEG files (paired by stem).

    python tools/dataset_converters/jpeg_masks.py \
        IMG_DIR MASK_DIR [IMG_DIR MASK_DIR ...] -o OUT_DIR \
        [--split NAME ...] [--threshold 127] [--margin 64] [--inverted] \
        [--force]

Crack where grey value > THRESHOLD (with --inverted: 255 - value >
THRESHOLD). A pixel is ambiguous when MARGIN < value < 255 - MARGIN (65..190
by default); the report counts them. See docs/datasets.md.
"""
import argparse

from mmcrack.datasets.converters.common import run_cli
from mmcrack.datasets.converters.folders import (
    add_pair_arguments,
    pairs_from_args,
)
from mmcrack.datasets.converters.jpeg_masks import convert_jpeg_masks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_pair_arguments(parser)
    parser.add_argument('--threshold', type=int, default=127,
                        help='crack where value > THRESHOLD (0..254)')
    parser.add_argument('--margin', type=int, default=64,
                        help='ambiguous where MARGIN < value < 255 - MARGIN')
    parser.add_argument('--inverted', action='store_true',
                        help='black crack on white background')
    args = parser.parse_args(argv)
    pairs = pairs_from_args(parser, args)
    return run_cli('jpeg_masks', lambda: convert_jpeg_masks(
        pairs, args.out_dir, threshold=args.threshold, margin=args.margin,
        inverted=args.inverted, force=args.force))


if __name__ == '__main__':
    main()
