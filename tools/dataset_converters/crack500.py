"""Convert the CRACK500 crops (FPHBN release) to mmcrack's layout.

    python tools/dataset_converters/crack500.py SRC_DIR -o OUT_DIR [--force]

SRC_DIR holds traincrop/, valcrop/, testcrop/ with <stem>.jpg and the 1-bit
mask <stem>.png side by side. See docs/datasets.md.
"""
from mmcrack.datasets.converters.common import base_parser, run_cli
from mmcrack.datasets.converters.crack500 import convert_crack500


def main(argv=None):
    args = base_parser(__doc__.split('\n')[0],
                       'release folder (traincrop/, valcrop/, testcrop/)'
                       ).parse_args(argv)
    return run_cli('crack500', lambda: convert_crack500(
        args.src_dir, args.out_dir, force=args.force))


if __name__ == '__main__':
    main()
