"""Convert the CrackForest (CFD) release to mmcrack's layout.

    python tools/dataset_converters/cfd.py SRC_DIR -o OUT_DIR \
        [--keep-042] [--single-split NAME] [--force]

SRC_DIR holds image/NNN.jpg and groundTruth/NNN.mat (the official release).
Mask = Segmentation in {2, 4}. Split: test 073-118, val 004 009 019 039 053
062 068, train the rest. 042 (wrong ground truth) and the images without a
.mat are skipped with the reason. See docs/datasets.md.
"""
from mmcrack.datasets.converters.cfd import convert_cfd
from mmcrack.datasets.converters.common import base_parser, run_cli


def parse_args(argv=None):
    parser = base_parser(__doc__.split('\n')[0],
                         'release folder (image/, groundTruth/)')
    parser.add_argument('--keep-042', action='store_true',
                        help='also convert 042, whose ground truth is wrong '
                        '(it goes to train)')
    parser.add_argument('--single-split', metavar='NAME',
                        help='put every image in this split')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    return run_cli('cfd', lambda: convert_cfd(
        args.src_dir, args.out_dir, keep_042=args.keep_042,
        single_split=args.single_split, force=args.force))


if __name__ == '__main__':
    main()
