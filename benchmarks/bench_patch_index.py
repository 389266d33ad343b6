"""Index build time and memory of CrackPatchDataset.

    python benchmarks/bench_patch_index.py [--images 2000] [--size 640 360]

Writes a temporary segmentation set of N images (W x H, random thin-line
masks), then builds the crack-patch index (128 px windows, stride 64,
x8 dihedral) and compares it, in the same run, with a reference that cuts
the windows in a Python loop and keeps one dict per sample (the usual
``load_data_list``). Prints time, peak Python memory (tracemalloc) and the
index size.
"""
import argparse
import os
import os.path as osp
import tempfile
import time
import tracemalloc

import cv2
import numpy as np


def write_set(root, n, w, h, seed=0):
    rng = np.random.default_rng(seed)
    for sub in ('images/train', 'masks/train'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    img = np.full((h, w, 3), 128, np.uint8)
    ok, jpg = cv2.imencode('.jpg', img)
    for i in range(n):
        mask = np.zeros((h, w), np.uint8)
        for _ in range(rng.integers(0, 4)):
            p0 = tuple(int(v) for v in rng.integers(0, (w, h)))
            p1 = tuple(int(v) for v in rng.integers(0, (w, h)))
            cv2.line(mask, p0, p1, 255, int(rng.integers(1, 4)))
        with open(osp.join(root, 'images/train', f'{i:05d}.jpg'), 'wb') as f:
            f.write(jpg.tobytes())
        cv2.imwrite(osp.join(root, 'masks/train', f'{i:05d}.png'), mask)


def reference_index(root, size=128, stride=64):
    """Per-window Python loop, one dict per (window, transform)."""
    from mmcrack.datasets.mask_utils import binarize_mask
    from mmcrack.datasets.transforms.patch_loading import pad_to_multiple
    data_list = []
    masks = sorted(os.listdir(osp.join(root, 'masks/train')))
    for name in masks:
        mask = binarize_mask(
            cv2.imread(osp.join(root, 'masks/train', name),
                       cv2.IMREAD_UNCHANGED))
        padded = pad_to_multiple(mask, size)
        for y in range(0, padded.shape[0] - size + 1, stride):
            for x in range(0, padded.shape[1] - size + 1, stride):
                label = int(padded[y:y + size, x:x + size].sum() >= 1)
                for t in range(8):
                    data_list.append(
                        dict(img_path=osp.join(root, 'images/train',
                                               name[:-4] + '.jpg'),
                             patch_y=y, patch_x=x, dihedral=t,
                             gt_label=label))
    return data_list


def measure(fn):
    tracemalloc.start()
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, seconds, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=2000)
    parser.add_argument('--size', type=int, nargs=2, default=(640, 360),
                        metavar=('W', 'H'))
    args = parser.parse_args()
    from mmengine.registry import DefaultScope

    import mmcrack  # noqa: F401
    from mmcrack.datasets import CrackPatchDataset
    with tempfile.TemporaryDirectory() as root:
        t = time.perf_counter()
        write_set(root, args.images, *args.size)
        print(f'wrote {args.images} images {args.size[0]}x{args.size[1]} in '
              f'{time.perf_counter() - t:.1f} s')

        def ours():
            with DefaultScope.overwrite_default_scope('mmpretrain'):
                return CrackPatchDataset(
                    data_root=root, dihedral_aug=True,
                    data_prefix=dict(img_path='images/train',
                                     seg_map_path='masks/train'))

        ds, t_ours, m_ours = measure(ours)
        ref, t_ref, m_ref = measure(lambda: reference_index(root))
        labels_equal = np.array_equal(
            ds.get_gt_labels(), np.array([d['gt_label'] for d in ref]))
        index_bytes = sum(a.nbytes for a in (ds._img_ids, ds._ys, ds._xs,
                                             ds._labels))
        print(f'{"method":<34}{"samples":>9}{"time [s]":>10}'
              f'{"peak mem [MB]":>15}')
        print(f'{"CrackPatchDataset (arrays)":<34}{len(ds):>9}'
              f'{t_ours:>10.2f}{m_ours / 2**20:>15.1f}')
        print(f'{"reference (loop, dict/sample)":<34}{len(ref):>9}'
              f'{t_ref:>10.2f}{m_ref / 2**20:>15.1f}')
        print(f'speed-up {t_ref / t_ours:.1f}x, memory {m_ref / m_ours:.1f}x '
              f'less; index arrays {index_bytes / 2**20:.2f} MB; labels '
              f'identical: {labels_equal}')


if __name__ == '__main__':
    main()
