"""Convert image folders + binary mask folders (paired by stem).

    python tools/dataset_converters/image_mask_folders.py \
        IMG_DIR MASK_DIR [IMG_DIR MASK_DIR ...] -o OUT_DIR \
        [--split NAME ...] [--mask-rule 0-255|0-1|inverted] [--force]

Each IMG_DIR MASK_DIR pair becomes one split (default: train for a single
pair). Mask rules: 0-255 crack where value >= 128; 0-1 values 0/1, crack =
1; inverted (black crack on white) crack where value <= 127. See
docs/datasets.md.
"""
import argparse

from mmcrack.datasets.converters.common import run_cli
from mmcrack.datasets.converters.folders import (
    MASK_RULES,
    add_pair_arguments,
    convert_folders,
    pairs_from_args,
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_pair_arguments(parser)
    parser.add_argument('--mask-rule', choices=MASK_RULES, default='0-255')
    args = parser.parse_args(argv)
    pairs = pairs_from_args(parser, args)
    return run_cli('image_mask_folders', lambda: convert_folders(
        pairs, args.out_dir, mask_rule=args.mask_rule, force=args.force))


if __name__ == '__main__':
    main()
