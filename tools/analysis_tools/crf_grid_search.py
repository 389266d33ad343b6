"""Grid-search the dense-CRF parameters of the CRF labels for a classifier.

    python tools/analysis_tools/crf_grid_search.py CLS_CONFIG CLS_CKPT \\
        DATA_ROOT --out PRESET.py [--split train] [--num-images 100] \\
        [--seed 0] [--grid default|coarse|GRID.json] [--preset crf] \\
        [--workers 1] [--device cpu] [--cfg-options cam.resize=lanczos]

Draws ``--num-images`` random images of DATA_ROOT/images/SPLIT with their
masks (DATA_ROOT/masks/SPLIT; all of them when the split has fewer),
computes each image's Grad-CAM once and runs the CRF of every combination of
the grid plus the preset's own parameters; the best mIoU of the binary
labels against the masks wins (mmcrack.pseudo_label.crf_search). Writes

* PRESET.py: a preset on top of --preset with the best ``crf`` fields, for
  ``tools/generate_pseudo_labels.py ... --preset PRESET.py`` (label every
  training image with them) and a weakly-supervised config's
  ``pseudo_label_generator = dict(..., preset='PRESET.py')``;
* PRESET.json (or --json): every combination's mIoU, crack / background
  IoU, the images and the timing.

A GRID.json is ``{"bilateral_srgb": [5, 13], "iterations": [5, 10]}``:
fields of DenseCRFSettings, each a list; fields left out keep the preset's.
Same seed, data and grid give the same parameters and the same PRESET.py.
"""
import argparse
import os.path as osp
import sys

try:
    import mmcrack  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))

from mmengine.config import DictAction

from mmcrack.datasets.mask_utils import binarize_mask
from mmcrack.pseudo_label.crf_search import (
    grid_settings,
    load_grid,
    sample_pairs,
    search_crf,
    write_preset,
    write_results,
)
from mmcrack.pseudo_label.presets import (
    build_generator,
    load_preset_config,
    preset_path,
)
from mmcrack.utils.file_io import (
    NotWritableError,
    ensure_writable_dir,
    read_image,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('cls_config', help='classifier config')
    parser.add_argument('cls_checkpoint', help='classifier checkpoint')
    parser.add_argument('data_root', help='dataset with images/SPLIT and '
                        'masks/SPLIT')
    parser.add_argument('--out', required=True, metavar='PRESET.py',
                        help='preset file to write')
    parser.add_argument('--json', default=None, metavar='FILE',
                        help='scores of every combination (default: '
                        'PRESET.json)')
    parser.add_argument('--split', default='train')
    parser.add_argument('--num-images', type=int, default=100)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--grid', default='default',
                        help="'default' (16 combinations), 'coarse' (4) or a "
                        'JSON file {field: [values]}')
    parser.add_argument('--preset', default='crf',
                        help='the CRF-label preset searched from (name or '
                        'file); its crf settings are evaluated too')
    parser.add_argument('--workers', type=int, default=1,
                        help='processes for the CRF runs')
    parser.add_argument('--mask-rule', choices=('ge128', 'nonzero'),
                        default='ge128',
                        help="mask binarisation: 'ge128' for 0/255 masks, "
                        "'nonzero' for 0/1 masks")
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, help='override generator settings, '
                        'e.g. cam.resize=lanczos')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not args.out.endswith('.py'):
        raise SystemExit('crf_grid_search: error: --out must be a .py file')
    json_path = args.json or args.out[:-3] + '.json'
    for path in (args.out, json_path):
        ensure_writable_dir(osp.dirname(osp.abspath(path)), 'output folder')
    grid = load_grid(args.grid)
    cfg = load_preset_config(args.preset, args.cfg_options)
    generator = build_generator(cfg, args.device,
                                classifier_config=args.cls_config,
                                classifier_checkpoint=args.cls_checkpoint)
    if not hasattr(generator, 'refine'):
        raise SystemExit(f'crf_grid_search: error: preset {args.preset} '
                         f"builds a {cfg['type']}, not a CRF-label "
                         'generator')
    pairs = sample_pairs(args.data_root, args.split, args.num_images,
                         args.seed)
    images = [read_image(p, 'color') for _, p, _ in pairs]
    masks = [binarize_mask(read_image(m, 'unchanged'), args.mask_rule)
             for _, _, m in pairs]
    combos = grid_settings(grid, generator.crf)
    extra = 0 if generator.crf in combos else 1
    print(f'{len(pairs)} images of {args.data_root} {args.split} (seed '
          f'{args.seed}), {len(combos)} grid combinations'
          + (" + the preset's" if extra else " (the preset's among them)"),
          flush=True)
    result = search_crf(generator, images, masks, grid,
                        stems=[s for s, _, _ in pairs], workers=args.workers,
                        log=lambda line: print(line, flush=True))
    comment = (f'Dense-CRF parameters chosen by '
               f'tools/analysis_tools/crf_grid_search.py\n'
               f'classifier {args.cls_config} {args.cls_checkpoint}\n'
               f'{len(pairs)} images of {args.data_root} {args.split}, seed '
               f'{args.seed}, grid {args.grid}')
    write_preset(args.out, result, preset_path(args.preset), comment,
                 generator.settings())
    write_results(json_path, result, classifier_config=args.cls_config,
                  classifier_checkpoint=args.cls_checkpoint,
                  data_root=args.data_root, split=args.split,
                  seed=args.seed, grid=grid, preset=args.preset,
                  options=dict(args.cfg_options))
    print(f'best mIoU {result.best_miou:.4f} (preset\'s '
          f'{result.base_miou:.4f}); CAMs {result.seconds["cam"]:.1f} s, '
          f'CRFs {result.seconds["crf"]:.1f} s -> {args.out}, {json_path}')
    return result


if __name__ == '__main__':
    try:
        main()
    except (NotWritableError, FileNotFoundError, FileExistsError, KeyError,
            ValueError) as e:
        sys.exit(f'crf_grid_search: error: {e}')
