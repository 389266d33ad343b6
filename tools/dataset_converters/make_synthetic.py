"""Write the synthetic crack dataset (mmcrack's embedded default data).

    python tools/dataset_converters/make_synthetic.py data/synthetic \
        [--seed 0] [--train 120] [--val 8] [--test 40] [--size 256 256]

Layout: OUT/images/<split>/*.png (RGB) + OUT/masks/<split>/*.png (0/255),
the same as ../shared/datasets/*. Existing files are kept (resumable); use
--overwrite to regenerate.
"""
import argparse
import dataclasses
import time

from mmcrack.datasets.synthetic import (
    DEFAULT_SPLITS,
    SyntheticCrackConfig,
    write_synthetic_dataset,
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir', help='output dataset root')
    parser.add_argument('--seed', type=int, default=0)
    for split, count in DEFAULT_SPLITS.items():
        parser.add_argument(f'--{split}', type=int, default=count,
                            help=f'images in the {split} split ({count})')
    parser.add_argument('--size', type=int, nargs=2, metavar=('H', 'W'),
                        default=(256, 256))
    parser.add_argument('--overwrite', action='store_true')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = dataclasses.replace(SyntheticCrackConfig(), height=args.size[0],
                              width=args.size[1])
    splits = {s: getattr(args, s) for s in DEFAULT_SPLITS}
    start = time.time()
    write_synthetic_dataset(args.out_dir, args.seed, splits, cfg,
                            overwrite=args.overwrite)
    print(f'synthetic crack dataset in {args.out_dir}: ' +
          ', '.join(f'{k} {v}' for k, v in splits.items()) +
          f' images of {args.size[0]}x{args.size[1]} '
          f'(seed {args.seed}, {time.time() - start:.1f} s)')


if __name__ == '__main__':
    main()
