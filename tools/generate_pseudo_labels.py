"""Generate crack pseudo-labels for a folder of images.

    python tools/generate_pseudo_labels.py CLS_CONFIG CLS_CKPT IMG_DIR OUT_DIR
        [--preset paper|published_code|FILE.py] [--device cpu|cuda]
        [--save-stages] [--skip-bad] [--cfg-options threshold.d=5 ...]

Writes OUT_DIR/<stem>.png (0/255 label; the soft map x 255 when the preset
does not binarise) atomically, skips images already done (a killed run
resumes, and its temporary files are removed), and OUT_DIR/summary.json with
the kept / dropped stems. An OUT_DIR that cannot be written stops the tool
before it loads anything. With --save-stages, OUT_DIR/stages/<stem>.png
shows input, patch map, Grad-CAM++, fused localisation, threshold map and
output (paper Fig. 2/4).
"""
import argparse
import io
import os.path as osp
import sys
import time
import warnings

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.utils import ProgressBar

from mmcrack.pseudo_label.generator import PseudoLabelGenerator
from mmcrack.utils.file_io import (
    IMG_EXTENSIONS,
    NotWritableError,
    atomic_write_bytes,
    atomic_write_image,
    atomic_write_json,
    ensure_writable_dir,
    list_stems,
    read_image,
    remove_stale_temp_files,
)

PRESETS = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                   'configs', '_base_', 'pseudo_label')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('cls_config', help='classifier config')
    parser.add_argument('cls_checkpoint', help='classifier checkpoint')
    parser.add_argument('img_dir', help='folder of images')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--preset', default='paper',
                        help='paper, published_code, or a config file '
                        'defining pseudo_label_generator')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--save-stages', action='store_true')
    parser.add_argument('--skip-bad', action='store_true',
                        help='report unreadable images and go on')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, help='override generator settings, '
                        'e.g. threshold.d=5 output.threshold=0.3')
    return parser.parse_args(argv)


def load_settings(preset: str, options: dict) -> dict:
    """Generator settings of a preset, with ``key.sub=value`` overrides."""
    path = preset if preset.endswith('.py') else osp.join(
        PRESETS, f'{preset}.py')
    if not osp.isfile(path):
        raise FileNotFoundError(f'preset not found: {path}')
    cfg = Config.fromfile(path)
    if 'pseudo_label_generator' not in cfg:
        raise KeyError(f'{path} defines no pseudo_label_generator')
    gen = Config(dict(g=cfg.pseudo_label_generator.to_dict()))
    gen.merge_from_dict({f'g.{k}': v for k, v in options.items()})
    settings = gen.g.to_dict()
    settings.pop('type', None)
    settings.pop('classifier_config', None)
    settings.pop('classifier_checkpoint', None)
    return settings


def stage_figure(img, stages, label) -> bytes:
    """PNG bytes of the six panels of one image."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    panels = [('input', img), ('patch classification', stages['patch']),
              ('Grad-CAM++', stages['cam']),
              ('fused localisation', stages['localization']),
              ('patch multi-Otsu', stages['threshold']),
              ('pseudo-label', label)]
    fig, axes = plt.subplots(2, 3, figsize=(12, 12 * img.shape[0] /
                                            img.shape[1] * 2 / 3 + 0.6))
    for ax, (title, data) in zip(axes.flat, panels):
        if data.ndim == 3:
            ax.imshow(data)
        else:
            ax.imshow(data, cmap='gray', vmin=0, vmax=1)
        ax.set_title(title)
        ax.axis('off')
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=80)
    plt.close(fig)
    return buf.getvalue()


def count_crack(path: str, binarize: bool) -> int:
    label = read_image(path, 'grayscale')
    return int((label >= 128).sum() if binarize else (label > 0).sum())


def main(argv=None):
    args = parse_args(argv)
    # before loading anything: a folder we cannot write stops here
    ensure_writable_dir(args.out_dir, 'output folder')
    for folder in (args.out_dir, osp.join(args.out_dir, 'stages')):
        remove_stale_temp_files(folder)  # left by a killed run
    settings = load_settings(args.preset, args.cfg_options)
    generator = PseudoLabelGenerator(args.cls_config, args.cls_checkpoint,
                                     device=args.device, **settings)
    out_cfg = generator.settings()['output']
    images = list_stems(args.img_dir, IMG_EXTENSIONS)
    if not images:
        raise ValueError(f'no images ({", ".join(IMG_EXTENSIONS)}) in '
                         f'{args.img_dir}')
    kept, dropped, failed = [], [], []
    done = 0
    start = time.time()
    bar = ProgressBar(len(images))
    for stem, path in sorted(images.items()):
        out_path = osp.join(args.out_dir, stem + '.png')
        stage_path = osp.join(args.out_dir, 'stages', stem + '.png')
        if osp.isfile(out_path) and (not args.save_stages
                                     or osp.isfile(stage_path)):
            n = count_crack(out_path, out_cfg['binarize'])
        else:
            try:
                img = read_image(path, 'unchanged')
                if img.ndim == 3:  # OpenCV order to RGB(A)
                    img = img[:, :, [2, 1, 0] + ([3] if img.shape[2] == 4
                                                 else [])]
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter('always')
                    result = generator(img, return_stages=args.save_stages,
                                       name=path)
                for w in caught:
                    print(f'\nwarning: {w.message}', file=sys.stderr)
            except ValueError as e:
                if not args.skip_bad:
                    raise
                failed.append(dict(image=path, error=str(e)))
                bar.update()
                continue
            if out_cfg['binarize']:
                out = result.label * 255
            else:
                out = np.round(result.soft * 255).astype(np.uint8)
            if args.save_stages:
                atomic_write_bytes(
                    stage_path,
                    stage_figure(generator_input(img), result.stages,
                                 result.label))
            atomic_write_image(out_path, out.astype(np.uint8))
            n = int(result.label.sum())
            done += 1
        (kept if n >= out_cfg['min_crack_pixels'] else dropped).append(stem)
        bar.update()
    elapsed = time.time() - start
    summary = dict(
        images=len(images), generated=done, reused=len(images) - done -
        len(failed), kept=kept, dropped=dropped, failed=failed,
        min_crack_pixels=out_cfg['min_crack_pixels'], seconds=round(
            elapsed, 2), settings=generator.settings())
    atomic_write_json(osp.join(args.out_dir, 'summary.json'), summary)
    print(f'\n{len(images)} images: {len(kept)} kept, {len(dropped)} dropped '
          f'(< {out_cfg["min_crack_pixels"]} crack px), {len(failed)} '
          f'failed; generated {done} in {elapsed:.1f} s'
          + (f' ({done / elapsed:.2f} images/s)' if done else '') +
          f' -> {args.out_dir}')
    return summary


def generator_input(img: np.ndarray) -> np.ndarray:
    """The RGB uint8 view of an input image, for the stage figure."""
    from mmcrack.pseudo_label.generator import as_rgb_uint8
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return as_rgb_uint8(img)


if __name__ == '__main__':
    try:
        main()
    except NotWritableError as e:
        sys.exit(f'generate_pseudo_labels: error: {e}')
