"""Convert a mask layout to class folders and image-level lists.

    python tools/dataset_converters/masks_to_classification.py ROOT -o OUT \
        [--patch-size 128] [--stride 64] [--splits train val test] \
        [--image-level] [--tile 256] [--mask-rule ge128|nonzero] \
        [--crack-patch-min-pixels 1] [--force]

ROOT holds images/<split> and masks/<split> (mmcrack's layout). Writes
OUT/<split>/crack/ and OUT/<split>/no_crack/ (the windows that
CrackPatchDataset(source='segmentation') indexes, crack when they hold a
crack pixel) and, with --image-level, OUT/<split>/images/ +
OUT/<split>/labels.txt (stem,label; crack when the image has a crack
pixel); --tile N lists N px tiles of each image instead (implies
--image-level). A non-empty OUT needs --force. See
docs/classification_folders.md.
"""
from mmcrack.datasets.converters.classification import (
    convert_masks_to_classification,
)
from mmcrack.datasets.converters.common import base_parser, run_cli
from mmcrack.datasets.mask_utils import BINARIZE_RULES


def parse_args(argv=None):
    parser = base_parser(__doc__.split('\n')[0],
                         'mask layout root (images/<split>, masks/<split>)')
    parser.add_argument('--patch-size', type=int, default=128)
    parser.add_argument('--stride', type=int, default=64)
    parser.add_argument('--splits', nargs='+', metavar='SPLIT',
                        help='splits to convert (default: those of train, '
                        'val, test that exist)')
    parser.add_argument('--image-level', action='store_true',
                        help='also write <split>/images + <split>/labels.txt')
    parser.add_argument('--tile', type=int, metavar='PX',
                        help='image-level list of PX x PX tiles (implies '
                        '--image-level)')
    parser.add_argument('--mask-rule', choices=BINARIZE_RULES,
                        default='ge128',
                        help='ge128: 0/255 masks (default); nonzero: 0/1')
    parser.add_argument('--crack-patch-min-pixels', type=int, default=1,
                        help='crack pixels that make a patch / tile / image '
                        'crack (1)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    return run_cli('masks_to_classification', lambda:
                   convert_masks_to_classification(
                       args.src_dir, args.out_dir,
                       patch_size=args.patch_size, stride=args.stride,
                       splits=args.splits, image_level=args.image_level,
                       tile=args.tile, mask_rule=args.mask_rule,
                       crack_patch_min_pixels=args.crack_patch_min_pixels,
                       force=args.force))


if __name__ == '__main__':
    main()
