"""Write the synthetic crack dataset (mmcrack's embedded default data).

    python tools/dataset_converters/make_synthetic.py data/synthetic \
        [--seed 0] [--train 120] [--val 8] [--test 40] [--size 256 256] \
        [--classification [--patch-size 128] [--stride 64]]

Layout: OUT/images/<split>/*.png (RGB) + OUT/masks/<split>/*.png (0/255),
the same as ../shared/datasets/*. Existing files are kept (resumable); use
--force to regenerate (the converters' flag; --overwrite is its old name).

--classification writes the weak-label layout instead: class folders
OUT/classification/<split>/{crack,no_crack}/ and an image-level list
OUT/classification/<split>/{images/,labels.txt} (made from the masks by
masks_to_classification), the full images OUT/images/<split>/, and masks
for the test split only (OUT/masks/test, for scoring). A complete earlier
set is kept; any other non-empty OUT needs --force.
"""
import argparse
import dataclasses
import sys
import time

from mmcrack.datasets.converters.classification import (
    write_synthetic_classification,
)
from mmcrack.datasets.converters.common import OutputNotEmptyError
from mmcrack.datasets.synthetic import (
    DEFAULT_SPLITS,
    SyntheticCrackConfig,
    write_synthetic_dataset,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir', help='output dataset root')
    parser.add_argument('--seed', type=int, default=0)
    for split, count in DEFAULT_SPLITS.items():
        parser.add_argument(f'--{split}', type=int, default=count,
                            help=f'images in the {split} split ({count})')
    parser.add_argument('--size', type=int, nargs=2, metavar=('H', 'W'),
                        default=(256, 256))
    parser.add_argument('--force', '--overwrite', dest='force',
                        action='store_true',
                        help='regenerate existing files and write into a '
                        'non-empty output folder (as the converters\' '
                        '--force; --overwrite is the old name)')
    parser.add_argument('--classification', action='store_true',
                        help='weak-label layout: class folders and image '
                        'lists, masks for the test split only')
    parser.add_argument('--patch-size', type=int, default=128,
                        help='patch folders: window size (--classification)')
    parser.add_argument('--stride', type=int, default=64,
                        help='patch folders: window stride '
                        '(--classification)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = dataclasses.replace(SyntheticCrackConfig(), height=args.size[0],
                              width=args.size[1])
    splits = {s: getattr(args, s) for s in DEFAULT_SPLITS}
    start = time.time()
    if args.classification:
        try:
            summary = write_synthetic_classification(
                args.out_dir, args.seed, splits, cfg, args.patch_size,
                args.stride, overwrite=args.force)
        except OutputNotEmptyError as e:
            sys.exit(f'make_synthetic: error: {e}')
        print(f'synthetic classification set in {args.out_dir}: ' +
              '; '.join(summary['notes']) +
              f' ({time.time() - start:.1f} s)')
        return summary
    write_synthetic_dataset(args.out_dir, args.seed, splits, cfg,
                            overwrite=args.force)
    print(f'synthetic crack dataset in {args.out_dir}: ' +
          ', '.join(f'{k} {v}' for k, v in splits.items()) +
          f' images of {args.size[0]}x{args.size[1]} '
          f'(seed {args.seed}, {time.time() - start:.1f} s)')


if __name__ == '__main__':
    main()
