"""Generate crack pseudo-labels for a folder of images.

    python tools/generate_pseudo_labels.py CLS_CONFIG CLS_CKPT IMG_DIR OUT_DIR
        [--preset paper|published_code|FILE.py] [--device cpu|cuda]
        [--save-stages] [--skip-bad] [--localization-cache DIR]
        [--cfg-options threshold.d=5 ...]

Writes OUT_DIR/<stem>.png (0/255 label; the soft map x 255 when the preset
does not binarise) atomically, skips images already done (a killed run
resumes, and its temporary files are removed), and OUT_DIR/summary.json with
the kept / dropped stems. OUT_DIR/labels_key.json names the checkpoint and
settings: labels of another checkpoint or settings are refused (or, with
--overwrite, replaced), so a folder never mixes two. An OUT_DIR that
cannot be written stops the tool before it loads anything. With
--save-stages, OUT_DIR/stages/<stem>.png shows input, patch map,
Grad-CAM++, fused localisation, threshold map and output (paper Fig. 2/4).
With --localization-cache DIR, the classifier's window map and Grad-CAM++
of each image are kept in DIR: labelling the same images again with other
fusion / threshold / merge / output settings (another preset, an ablation)
skips the classifier and gives the same labels as without the cache
(the paper's generator only; the CRF presets refuse it).
"""
import argparse
import os.path as osp
import sys

from mmengine.config import DictAction

from mmcrack.pseudo_label.label_folder import (
    folder_items,
    folder_stamp,
    label_images,
)
from mmcrack.pseudo_label.presets import build_generator, load_preset_config
from mmcrack.utils.file_io import (
    NotWritableError,
    atomic_write_json,
    ensure_writable_dir,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('cls_config', help='classifier config')
    parser.add_argument('cls_checkpoint', help='classifier checkpoint')
    parser.add_argument('img_dir', help='folder of images')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--preset', default='paper',
                        help='a preset of configs/_base_/pseudo_label/ '
                        '(paper, published_code, ...) or a config file '
                        'defining pseudo_label_generator')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--save-stages', action='store_true')
    parser.add_argument('--skip-bad', action='store_true',
                        help='report unreadable images and go on')
    parser.add_argument('--overwrite', action='store_true',
                        help='OUT_DIR holds labels of another checkpoint or '
                        'other settings: replace them (else refused)')
    parser.add_argument('--localization-cache', metavar='DIR',
                        help='keep / reuse the classifier maps of each '
                        'image here (labels unchanged; relabelling with '
                        'other threshold settings skips the classifier)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, help='override generator settings, '
                        'e.g. threshold.d=5 output.threshold=0.3')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    # before loading anything: a folder we cannot write stops here
    ensure_writable_dir(args.out_dir, 'output folder')
    items = folder_items(args.img_dir)
    generator = build_generator(
        load_preset_config(args.preset, args.cfg_options), args.device,
        classifier_config=args.cls_config,
        classifier_checkpoint=args.cls_checkpoint,
        localization_cache=args.localization_cache)
    folder_stamp(args.out_dir, args.cls_checkpoint, generator.settings(),
                 args.overwrite)
    result = label_images(generator, items, args.out_dir,
                          save_stages=args.save_stages,
                          skip_bad=args.skip_bad)
    summary = result.to_dict()
    summary.update(min_crack_pixels=generator.output.min_crack_pixels,
                   settings=generator.settings())
    cache = getattr(generator, 'localization_cache', None)
    if cache is not None:
        summary['localization_cache'] = cache.stats()
    atomic_write_json(osp.join(args.out_dir, 'summary.json'), summary)
    rate = (f' ({result.generated / result.seconds:.2f} images/s)'
            if result.generated and result.seconds > 0 else '')
    if cache is not None:
        rate += (f'; classifier maps: {cache.hits} from the cache, '
                 f'{cache.misses} computed')
    print(f'{result.images} images: {len(result.kept)} kept, '
          f'{len(result.dropped)} dropped (< '
          f'{generator.output.min_crack_pixels} crack px), '
          f'{len(result.failed)} failed; generated {result.generated} in '
          f'{result.seconds:.1f} s{rate} -> {args.out_dir}')
    return summary


if __name__ == '__main__':
    try:
        main()
    except (NotWritableError, FileExistsError, FileNotFoundError, KeyError,
            ValueError) as e:
        sys.exit(f'generate_pseudo_labels: error: {e}')
