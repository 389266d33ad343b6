"""Train the pixel-affinity network of the affinity-walk labels.

    python tools/train_affinity_net.py CLS_CONFIG CLS_CKPT IMG_DIR \\
        --out AFFINITY.pth [--preset affinity_walk|FILE.py] \\
        [--num-images N] [--seed 0] [--device cpu] \\
        [--cfg-options crf.bilateral_srgb=5 affinity.iterations=300]

The training round of the CAM + learned-affinity random walk + CRF labels
(``mmcrack/pseudo_label/affinity_walk.py``, a partial build of the paper's
"CRF+RW" comparison, docs/pseudo_labels.md). It reads only the images of
IMG_DIR, no masks. Each image's Grad-CAM and two dense CRFs give confident
crack and background regions, and ``PixelAffinityNet`` learns their pixel
affinities (:func:`train_affinity_net`). It writes

* AFFINITY.pth: the network (``save_affinity_net``). Label with it:
  ``tools/generate_pseudo_labels.py ... --preset affinity_walk
  --cfg-options affinity.checkpoint=AFFINITY.pth`` (and the same other
  ``--cfg-options``);
* AFFINITY.json: the settings, the images, the loss of the first and last
  10 iterations and the pair counts.

``--num-images`` draws that many images at random (by ``--seed``); the
default is all. The same images, settings and seed give the same network.
"""
import argparse
import os.path as osp
import sys
import time

from mmengine.config import DictAction

from mmcrack.pseudo_label.affinity_walk import (
    crf_labels_of,
    save_affinity_net,
    train_affinity_net,
)
from mmcrack.pseudo_label.label_folder import folder_items
from mmcrack.pseudo_label.presets import load_preset
from mmcrack.utils.file_io import (
    NotWritableError,
    atomic_write_json,
    ensure_writable_dir,
    read_image,
)
from mmcrack.utils.sampling import random_subset


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('cls_config', help='classifier config')
    parser.add_argument('cls_checkpoint', help='classifier checkpoint')
    parser.add_argument('img_dir', help='folder of training images')
    parser.add_argument('--out', required=True, metavar='AFFINITY.pth',
                        help='the network to write')
    parser.add_argument('--preset', default='affinity_walk',
                        help='an affinity-walk preset (name or file)')
    parser.add_argument('--num-images', type=int, default=None,
                        help='images drawn at random (default: all)')
    parser.add_argument('--seed', type=int, default=0,
                        help='image draw (the network\'s seed is '
                        'affinity.seed)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, help='override preset settings, e.g. '
                        'crf.bilateral_srgb=5 affinity.iterations=100')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not args.out.endswith('.pth'):
        raise SystemExit('train_affinity_net: error: --out must be a .pth '
                         'file')
    ensure_writable_dir(osp.dirname(osp.abspath(args.out)), 'output folder')
    settings = load_preset(args.preset, args.cfg_options)
    missing = [k for k in ('confidence', 'affinity', 'walk')
               if k not in settings]
    if missing:
        raise SystemExit(f'train_affinity_net: error: preset {args.preset} '
                         f'has no {", ".join(missing)} settings (not an '
                         'affinity-walk preset)')
    items = folder_items(args.img_dir)
    if args.num_images is not None and args.num_images < len(items):
        items = random_subset(items, args.num_images, args.seed)
    images = [read_image(it.path, 'unchanged_rgb') for it in items]
    crf_labels = crf_labels_of(settings, args.cls_config,
                               args.cls_checkpoint, args.device)
    start = time.time()
    net, stats = train_affinity_net(crf_labels, images,
                                    settings['confidence'],
                                    settings['affinity'])
    meta = dict(classifier_checkpoint=osp.abspath(args.cls_checkpoint),
                images=[it.name for it in items],
                confidence=settings['confidence'],
                affinity=settings['affinity'], crf=settings['crf'])
    save_affinity_net(args.out, net, meta)
    record = dict(stats, seconds=round(time.time() - start, 3), **meta)
    atomic_write_json(args.out[:-4] + '.json', record, indent=1)
    print(f'affinity network from {len(items)} images in '
          f'{record["seconds"]:.1f} s: loss {stats["first_loss"]:.4f} -> '
          f'{stats["last_loss"]:.4f}, pairs {stats["pairs"]} -> {args.out}')
    return record


if __name__ == '__main__':
    try:
        main()
    except (NotWritableError, FileNotFoundError, KeyError, ValueError) as e:
        sys.exit(f'train_affinity_net: error: {e}')
