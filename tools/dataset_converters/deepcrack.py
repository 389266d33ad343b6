"""Convert the DeepCrack release to mmcrack's layout.

    python tools/dataset_converters/deepcrack.py SRC_DIR -o OUT_DIR \
        [--folders TRAIN_IMG TRAIN_LAB TEST_IMG TEST_LAB] [--force]

Detects train_img/train_lab/test_img/test_lab or train/image, train/label,
test/test_img, test/test_lab under SRC_DIR; --folders (relative to SRC_DIR)
names them otherwise. See docs/datasets.md.
"""
from mmcrack.datasets.converters.common import base_parser, run_cli
from mmcrack.datasets.converters.deepcrack import convert_deepcrack


def parse_args(argv=None):
    parser = base_parser(__doc__.split('\n')[0], 'release folder')
    parser.add_argument('--folders', nargs=4,
                        metavar=('TRAIN_IMG', 'TRAIN_LAB', 'TEST_IMG',
                                 'TEST_LAB'),
                        help='the four folders, relative to SRC_DIR')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    return run_cli('deepcrack', lambda: convert_deepcrack(
        args.src_dir, args.out_dir, folders=args.folders, force=args.force))


if __name__ == '__main__':
    main()
