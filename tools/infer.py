"""Crack maps for images with a trained segmentation model.

    python tools/infer.py CONFIG CKPT IMG_OR_DIR --out DIR [--threshold T]
        [--device cpu|cuda] [--slide CROP STRIDE]

Writes DIR/prob/<stem>.png (probability x 255), DIR/mask/<stem>.png (0/255
at the threshold: given, else the ODS threshold stored with the checkpoint's
validation, else 0.5) and DIR/overlay/<stem>.jpg.
"""
import argparse
import sys

from mmcrack.apis import CrackInferencer
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
                        help='sliding-window inference for large images')
    return parser.parse_args()


def main():
    args = parse_args()
    ensure_writable_dir(args.out, '--out folder')  # before loading the model
    inferencer = CrackInferencer(args.config, args.checkpoint, args.device,
                                 args.threshold,
                                 tuple(args.slide) if args.slide else None)
    results = inferencer(args.inputs, out_dir=args.out)
    print(f'\n{len(results)} image(s) -> {args.out} (threshold '
          f'{inferencer.threshold:.2f}, {inferencer.threshold_source})')


if __name__ == '__main__':
    try:
        main()
    except NotWritableError as e:
        sys.exit(f'infer: error: {e}')
