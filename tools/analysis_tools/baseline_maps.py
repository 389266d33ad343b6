"""Reference crack maps every result must beat (the sanity floors,
docs/baselines.md).

    python tools/analysis_tools/baseline_maps.py IMG_DIR OUT_DIR

OUT_DIR/darkness/<stem>.png: 255 - grey, min-max scaled per image (a soft
map). OUT_DIR/otsu/<stem>.png: global Otsu threshold of the grey image,
crack = the dark class (a binary map, 0/255). See
mmcrack/evaluation/baselines.py.
"""
import argparse

from mmcrack.evaluation.baselines import write_baseline_maps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('img_dir')
    parser.add_argument('out_dir')
    args = parser.parse_args(argv)
    n = write_baseline_maps(args.img_dir, args.out_dir)
    print(f'{n} images -> {args.out_dir}/darkness, {args.out_dir}/otsu')


if __name__ == '__main__':
    main()
