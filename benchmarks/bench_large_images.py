"""Large photos: peak memory and time of tiled inference; pseudo-label
quality with and without generator tiles.

Memory part (default). Synthetic photos of 1000x750, 3000x2000 and
6000x4000 px (a mosaic of synthetic crack images, written once as ``.npy``)
are predicted by ``CrackInferencer`` with a U-Net (default: the demo U-Net
``configs/unet/unet-s5-d16_fcn_1xb4-400i_synthetic-256x256.py`` with random
weights — memory and time do not depend on the weights; or ``--config`` /
``--checkpoint``), each case in a fresh subprocess:

* ``tiled``: ``predict`` in ``--tile`` px tiles overlapping by ``--overlap``
  (default 1024 / 64), blended into the float32 map;
* ``whole``: one forward pass (up to ``--whole-max-mpx`` megapixels);
* ``tiled+files``: ``inferencer(path, out_dir)`` on the image saved as PNG:
  decoding, the map, the mask, the three output files.

Each subprocess loads the model and the image and runs one warm-up tile
first; the table then shows the peak of numpy allocations during the case
(``tracemalloc``) and the growth of the peak resident set
(``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after minus before, which
also counts torch's activations), and both per image pixel. Tiled inference
should need about 4 B/px (the float32 map) whatever the image size, whole
images a multiple of that that grows with the activations.

Quality part (``--real --cls-config C --cls-ckpt K``): labels-only ODS /
OIS / AP of ``PseudoLabelGenerator`` (paper preset) on the test sets
``DeepCrack/images/test`` and ``CFD/images/test`` (masks in ``masks/test``)
with ``tile_size`` None, ``--gen-tile`` (independent tiles) and
``(--gen-tile, --gen-overlap)`` (blended tiles). Needs a trained crack-patch
classifier.

Usage::

    python benchmarks/bench_large_images.py [--sizes 1000x750,3000x2000,...]
        [--tile 1024] [--overlap 64] [--threads 1] [--device cpu]
    python benchmarks/bench_large_images.py --real --cls-config C \\
        --cls-ckpt K [--gen-tile 256] [--gen-overlap 32] [--limit N]
"""
import argparse
import json
import os
import os.path as osp
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = osp.join(
    REPO, 'configs/unet/unet-s5-d16_fcn_1xb4-400i_synthetic-256x256.py')
DATASETS = osp.join(osp.dirname(REPO), 'shared', 'datasets')


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def parse_size(text: str):
    w, h = (int(v) for v in text.lower().split('x'))
    return w, h


def make_photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """uint8 RGB (height, width, 3): a mosaic of 500 x 375 synthetic crack
    images (flipped alternately), like a stitched survey."""
    import dataclasses

    from mmcrack.datasets.synthetic import (
        SyntheticCrackConfig,
        make_synthetic_sample,
    )
    cfg = dataclasses.replace(SyntheticCrackConfig(), height=375, width=500,
                              crack_free_prob=0.2, crack_length=(150, 450))
    blocks = [make_synthetic_sample(seed, i, cfg)[0] for i in range(4)]
    out = np.empty((height, width, 3), np.uint8)
    for bi, y in enumerate(range(0, height, 375)):
        for bj, x in enumerate(range(0, width, 500)):
            block = blocks[(bi * 3 + bj) % 4]
            if (bi + bj) % 2:
                block = block[::-1, ::-1]
            out[y:y + 375, x:x + 500] = block[:height - y, :width - x]
    return out


def random_checkpoint(config: str, path: str) -> str:
    """Save randomly initialised weights of ``config``'s model."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.apis import init_model

    import mmcrack  # noqa: F401
    cfg = Config.fromfile(config)
    with DefaultScope.overwrite_default_scope('mmseg'):
        torch.manual_seed(0)
        model = init_model(cfg, None, device='cpu')
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)
    return path


# -- one case, in a fresh process -------------------------------------------
def worker(case: dict) -> dict:
    import torch
    torch.set_num_threads(case['threads'])
    from mmcrack.apis import CrackInferencer
    tile = case['tile'] if case['mode'] != 'whole' else None
    inf = CrackInferencer(case['config'], case['checkpoint'],
                          case['device'], threshold=0.5, tile=tile,
                          overlap=case['overlap'])
    img = None
    if case['mode'] != 'tiled+files':
        img = np.load(case['npy'])
        warm = np.ascontiguousarray(img[:case['tile'], :case['tile']])
    else:
        warm = np.load(case['npy'], mmap_mode='r')[:case['tile'],
                                                   :case['tile']]
        warm = np.ascontiguousarray(warm)
    inf.predict_whole(warm)  # libraries, allocator, one tile's activations
    del warm
    cuda = case['device'].startswith('cuda')
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    before = rss_mb()
    tracemalloc.start()
    t0 = time.perf_counter()
    if case['mode'] == 'tiled+files':
        inf(case['png'], out_dir=case['out_dir'], show_progress=False,
            return_maps=False)
        h, w = case['height'], case['width']
    else:
        prob = inf.predict(img)
        h, w = prob.shape
        del prob
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    numpy_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    after = rss_mb()
    return dict(
        mode=case['mode'], width=w, height=h, tiles=inf.num_tiles(h, w)
        if case['mode'] != 'whole' else 1, seconds=seconds,
        numpy_peak_mb=numpy_peak, rss_before_mb=before, rss_peak_mb=after,
        rss_growth_mb=after - before,
        cuda_peak_mb=(torch.cuda.max_memory_allocated() / 2**20
                      if cuda else None))


def run_case(case: dict) -> dict:
    cmd = [sys.executable, osp.abspath(__file__), '--worker',
           json.dumps(case)]
    env = dict(os.environ, OMP_NUM_THREADS=str(case['threads']),
               PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH',
                                                             ''))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                          cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f'case {case["mode"]} {case["width"]}x'
                           f'{case["height"]} failed:\n{proc.stderr[-3000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def memory_part(args) -> None:
    with tempfile.TemporaryDirectory(prefix='bench_large_') as work:
        rows = measure_cases(args, work)
    print_table(args, rows)


def measure_cases(args, work: str) -> list:
    import cv2
    checkpoint = args.checkpoint or random_checkpoint(
        args.config, osp.join(work, 'random_unet.pth'))
    rows = []
    for text in args.sizes.split(','):
        w, h = parse_size(text)
        npy = osp.join(work, f'photo_{w}x{h}.npy')
        png = osp.join(work, f'photo_{w}x{h}.png')
        photo = make_photo(w, h)
        np.save(npy, photo)
        if 'tiled+files' in args.modes:
            cv2.imwrite(png, cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
        del photo
        for mode in args.modes.split(','):
            if mode == 'whole' and w * h > args.whole_max_mpx * 1e6:
                continue
            case = dict(mode=mode, width=w, height=h, npy=npy, png=png,
                        out_dir=osp.join(work, 'out'), config=args.config,
                        checkpoint=checkpoint, device=args.device,
                        tile=args.tile, overlap=args.overlap,
                        threads=args.threads)
            row = run_case(case)
            rows.append(row)
            print(f'  {w}x{h} {mode}: {row["seconds"]:.1f} s, RSS +'
                  f'{row["rss_growth_mb"]:.0f} MB', flush=True)
        os.remove(npy)
        if osp.exists(png):
            os.remove(png)
    return rows


def print_table(args, rows: list) -> None:
    print(f'\nU-Net {osp.basename(args.config)}, tile {args.tile} overlap '
          f'{args.overlap}, device {args.device}, {args.threads} thread(s), '
          f'{platform.processor() or platform.machine()}\n')
    cuda = any(r['cuda_peak_mb'] is not None for r in rows)
    head = ('| image | Mpx | mode | tiles | time s | Mpx/s | numpy peak MB '
            '| B/px | numpy - map MB | RSS growth MB | B/px | peak RSS MB |'
            + (' CUDA peak MB |' if cuda else ''))
    print(head)
    print('|' + '---|' * (head.count('|') - 1))
    for r in rows:
        px = r['width'] * r['height']
        line = (f'| {r["width"]}x{r["height"]} | {px / 1e6:.2f} | '
                f'{r["mode"]} | {r["tiles"]} | {r["seconds"]:.1f} | '
                f'{px / 1e6 / r["seconds"]:.2f} | '
                f'{r["numpy_peak_mb"]:.0f} | '
                f'{r["numpy_peak_mb"] * 2**20 / px:.2f} | '
                f'{r["numpy_peak_mb"] - 4 * px / 2**20:.0f} | '
                f'{r["rss_growth_mb"]:.0f} | '
                f'{r["rss_growth_mb"] * 2**20 / px:.2f} | '
                f'{r["rss_peak_mb"]:.0f} |')
        if cuda:
            line += f' {r["cuda_peak_mb"] or 0:.0f} |'
        print(line)
    tiled = [r for r in rows if r['mode'] == 'tiled' and r['tiles'] > 1]
    if len(tiled) > 1:
        a, b = tiled[0], tiled[-1]
        pa, pb = a['width'] * a['height'], b['width'] * b['height']
        print(f'\ntiled, {b["width"]}x{b["height"]} vs {a["width"]}x'
              f'{a["height"]}: {pb / pa:.1f}x the pixels, '
              f'{b["rss_growth_mb"] / max(a["rss_growth_mb"], 1e-9):.1f}x '
              f'the RSS growth, '
              f'{b["numpy_peak_mb"] / max(a["numpy_peak_mb"], 1e-9):.1f}x '
              f'the numpy peak; numpy peak minus the float32 map (4 B/px): '
              f'{a["numpy_peak_mb"] - 4 * pa / 2**20:.0f} and '
              f'{b["numpy_peak_mb"] - 4 * pb / 2**20:.0f} MB')
    print('\nMB = 2^20 bytes. numpy - map: the numpy peak less the float32 '
          'map of the image (4 B/px); RSS growth: peak RSS during the case '
          'less the peak after loading the model and one warm-up tile')


# -- quality of pseudo-labels with and without generator tiles --------------
def quality_part(args) -> None:
    from mmcrack.evaluation.folder_eval import load_gt_mask
    from mmcrack.evaluation.functional.crack_pr import (
        pr_counts,
        summarize_pr,
    )
    from mmcrack.pseudo_label.generator import PseudoLabelGenerator
    from mmcrack.utils.file_io import pair_by_stem, read_image
    variants = [('whole image', None),
                (f'independent tiles {args.gen_tile}', args.gen_tile),
                (f'blended tiles ({args.gen_tile}, {args.gen_overlap})',
                 (args.gen_tile, args.gen_overlap))]
    generators = [(name, PseudoLabelGenerator(
        args.cls_config, args.cls_ckpt, device=args.device, tile_size=t))
        for name, t in variants]
    print(f'\nclassifier {args.cls_ckpt}, paper preset; soft map and '
          'binary label vs ground truth (pixel-exact)\n')
    print('| set | labels | soft ODS | soft OIS | soft AP | label F1 '
          '(mean) | images | s/image |')
    print('|---|---|---:|---:|---:|---:|---:|---:|')
    for name in args.sets.split(','):
        root = osp.join(args.datasets, name)
        pairs = pair_by_stem(osp.join(root, 'images', 'test'),
                             osp.join(root, 'masks', 'test'))
        pairs = pairs[:args.limit] if args.limit else pairs
        for label_name, gen in generators:
            soft_counts, label_counts = [], []
            t0 = time.perf_counter()
            for pair in pairs:
                img_path, mask_path = pair[-2], pair[-1]
                gt = load_gt_mask(mask_path)
                res = gen(read_image(img_path, 'color'))
                soft_counts.append(pr_counts(res.soft, gt))
                label_counts.append(pr_counts(
                    res.label.astype(np.float32), gt, thresholds=[0.5]))
            seconds = (time.perf_counter() - t0) / max(len(pairs), 1)
            soft = summarize_pr(np.stack(soft_counts))
            label = summarize_pr(np.stack(label_counts), thresholds=[0.5])
            print(f'| {name} | {label_name} | {soft["ODS"]:.3f} | '
                  f'{soft["OIS"]:.3f} | {soft["AP"]:.3f} | '
                  f'{label["ODS"]:.3f} | {len(pairs)} | {seconds:.2f} |',
                  flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--worker', help=argparse.SUPPRESS)
    p.add_argument('--config', default=DEFAULT_CONFIG)
    p.add_argument('--checkpoint', help='default: random weights')
    p.add_argument('--sizes', default='1000x750,3000x2000,6000x4000',
                   help='WxH,WxH,...')
    p.add_argument('--modes', default='whole,tiled,tiled+files')
    p.add_argument('--tile', type=int, default=1024)
    p.add_argument('--overlap', type=int, default=64)
    p.add_argument('--whole-max-mpx', type=float, default=6.0,
                   help='skip whole-image passes above this many Mpx')
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--real', action='store_true',
                   help='also (only) the pseudo-label quality part')
    p.add_argument('--cls-config', help='trained crack-patch classifier')
    p.add_argument('--cls-ckpt')
    p.add_argument('--datasets', default=DATASETS)
    p.add_argument('--sets', default='DeepCrack,CFD')
    p.add_argument('--gen-tile', type=int, default=256)
    p.add_argument('--gen-overlap', type=int, default=32)
    p.add_argument('--limit', type=int, help='first N images of each set')
    return p.parse_args()


def main():
    args = parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    if args.real:
        if not (args.cls_config and args.cls_ckpt):
            sys.exit('--real needs --cls-config and --cls-ckpt (a trained '
                     'crack-patch classifier)')
        quality_part(args)
        return
    memory_part(args)


if __name__ == '__main__':
    main()
