"""Benchmark: CrackMetric (one histogram per image) vs per-threshold loops.

237 probability maps of 544x384 (the DeepCrack test set size; the real test
masks are used as ground truth when ``../shared/datasets`` is present,
otherwise synthetic ones), 99 thresholds. Timed, median of ``--runs``:

* ``CrackMetric``: ``process`` on mmseg-style samples (1-channel float32
  ``seg_logits``, int64 ``gt_sem_seg``) + ``evaluate``;
* ``loop, public-repo style``: per threshold binarise to uint8 and count
  with ``np.sum((pred == 1) & (gt == 1))`` etc., as DeepSegmentor's
  ``eval/prf_metrics.py`` and CrackFormer's validator do. It is if anything
  generous to the loop: those repos also redo ``pred / 255`` and
  ``gt / 255`` for every threshold, here the float64 map is made once;
* ``loop, tuned numpy``: per threshold one bool compare, one ``&``, two
  ``np.count_nonzero``.

Both loops compare in float64 (``prob.astype(np.float64) >= t``), the
metric's semantics; the same summary code turns their counts into ODS /
OIS / AP, and the script checks that counts and metrics are identical.

The last lines show where the metric's time per map goes (same data, each
timed on its own): ``CrackMetric`` with the counting stubbed out (reading
``seg_logits``, the range check, bookkeeping, ``evaluate``); ``pr_counts``
alone on the float32 maps and int64 masks that ``process`` hands it; and
``pr_counts`` on 8-bit maps with bool masks (the ``evaluate_folder`` /
``eval_crack.py`` case), with their ratios to the public-repo loop.

    python benchmarks/bench_metric.py [--n 237] [--runs 3]
"""
import argparse
import glob
import os.path as osp
import platform
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmcrack.evaluation import CrackMetric  # noqa: E402
from mmcrack.evaluation.functional import (  # noqa: E402
    DEFAULT_THRESHOLDS,
    pr_counts,
    summarize_pr,
)
from mmcrack.evaluation.metrics import crack_metric  # noqa: E402

H, W = 544, 384
MASKS = osp.join(osp.dirname(osp.abspath(__file__)), '..', '..', 'shared',
                 'datasets', 'DeepCrack', 'masks', 'test')


def make_data(n, seed=0):
    """n (prob float32 (H, W), gt uint8 (H, W)) pairs."""
    import cv2
    rng = np.random.default_rng(seed)
    paths = sorted(glob.glob(osp.join(MASKS, '*.png')))[:n]
    data = []
    for i in range(n):
        if i < len(paths):
            m = cv2.imread(paths[i], cv2.IMREAD_GRAYSCALE)
            gt = (m >= 128).astype(np.uint8)
        else:  # synthetic crack: a random thick polyline
            gt = np.zeros((H, W), np.uint8)
            pts = rng.integers(0, [W, H], (6, 2)).astype(np.int32)
            cv2.polylines(gt, [pts], False, 1, int(rng.integers(2, 6)))
        if gt.shape != (H, W):
            gt = cv2.resize(gt, (W, H), interpolation=cv2.INTER_NEAREST)
        # a plausible network output: blurred crack + noise, squashed
        blur = cv2.GaussianBlur(gt.astype(np.float32), (0, 0), 2.0)
        logit = 8 * blur - 4 + rng.normal(0, 1.5, (H, W)).astype(np.float32)
        prob = (1 / (1 + np.exp(-logit))).astype(np.float32)
        data.append((prob, gt))
    return data, min(len(paths), n)


def to_samples(data):
    return [
        dict(seg_logits=dict(data=torch.from_numpy(p)[None]),
             gt_sem_seg=dict(data=torch.from_numpy(g.astype(np.int64))[None]),
             img_path=f'{i}.png') for i, (p, g) in enumerate(data)
    ]


def run_metric(samples):
    metric = CrackMetric(return_curves=True)
    for s in range(0, len(samples), 4):
        metric.process(None, samples[s:s + 4])
    counts = np.stack([r['counts'] for r in metric.results])
    return metric.evaluate(len(samples)), counts


def run_pr_counts(pairs, **kwargs):
    return [pr_counts(p, g, **kwargs) for p, g in pairs]


def loop_public(data):
    """DeepSegmentor-style get_statistics per threshold and image."""
    out = []
    for prob, gt in data:
        p64 = prob.astype(np.float64)
        rows = []
        for t in DEFAULT_THRESHOLDS:
            pred = (p64 >= t).astype('uint8')
            tp = np.sum((pred == 1) & (gt == 1))
            fp = np.sum((pred == 1) & (gt == 0))
            fn = np.sum((pred == 0) & (gt == 1))
            rows.append((tp, fp, fn))
        out.append(rows)
    return np.array(out, np.int64)


def loop_tuned(data):
    """Per threshold: one compare, one &, two count_nonzero."""
    out = []
    for prob, gt in data:
        p64 = prob.astype(np.float64)
        g = gt.astype(bool)
        n_pos = np.count_nonzero(g)
        rows = []
        for t in DEFAULT_THRESHOLDS:
            pred = p64 >= t
            tp = np.count_nonzero(pred & g)
            rows.append((tp, np.count_nonzero(pred) - tp, n_pos - tp))
        out.append(rows)
    return np.array(out, np.int64)


def summary_of(counts):
    s = summarize_pr(counts)
    return dict(ODS=s['ODS'], OIS=s['OIS'], AP=s['AP'], ODS_thr=s['ODS_thr'],
                thresholds=s['thresholds'].tolist(),
                precision=s['precision'].tolist(),
                recall=s['recall'].tolist(), f1=s['mean_f1'].tolist())


def timed(fn, runs):
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, default=237)
    ap.add_argument('--runs', type=int, default=3)
    args = ap.parse_args(argv)
    data, n_real = make_data(args.n)
    samples = to_samples(data)
    print(f'{args.n} maps of {H}x{W} ({n_real} real DeepCrack test masks as '
          f'GT), {len(DEFAULT_THRESHOLDS)} thresholds, median of '
          f'{args.runs} runs; numpy {np.__version__}, torch '
          f'{torch.__version__}, {platform.processor() or platform.machine()}'
          f', torch threads {torch.get_num_threads()}')

    t_metric, (m_res, m_counts) = timed(lambda: run_metric(samples),
                                        args.runs)
    rows = [('CrackMetric (histogram)', t_metric, True)]
    for name, fn in (('loop, public-repo style', loop_public),
                     ('loop, tuned numpy', loop_tuned)):
        t, res = timed(lambda fn=fn: summary_of(fn(data)), args.runs)
        same_metrics = all(res[k] == m_res[k] for k in res)
        rows.append((name, t, same_metrics))
    # counts identical (checked once, untimed)
    same_counts = {
        'loop, public-repo style': np.array_equal(loop_public(data),
                                                  m_counts),
        'loop, tuned numpy': np.array_equal(loop_tuned(data), m_counts),
    }
    print(f'{"method":<26} {"time [s]":>9} {"per map [ms]":>13} '
          f'{"ratio":>8}  identical (counts, ODS/OIS/AP/curves)')
    for name, t, same in rows:
        ratio = t / t_metric
        ident = ('-' if name.startswith('CrackMetric') else
                 'yes' if same and same_counts[name] else 'NO')
        print(f'{name:<26} {t:>9.3f} {1000 * t / args.n:>13.2f} '
              f'{ratio:>7.1f}x  {ident}')
    print(f'ODS={m_res["ODS"]:.6f} OIS={m_res["OIS"]:.6f} '
          f'AP={m_res["AP"]:.6f} ODS_thr={m_res["ODS_thr"]:.2f}')
    # where the metric's time goes (same data, each part timed on its own)
    t_loop = rows[1][1]
    stub = np.zeros((len(DEFAULT_THRESHOLDS), 3), np.int64)
    real = crack_metric.pr_counts
    crack_metric.pr_counts = lambda *a, **k: (stub, 0)
    try:
        t_rest, _ = timed(lambda: run_metric(samples), args.runs)
    finally:
        crack_metric.pr_counts = real
    mmseg_pairs = [(p, s['gt_sem_seg']['data'][0].numpy())
                   for (p, _), s in zip(data, samples)]
    t_pr, pr_list = timed(
        lambda: run_pr_counts(mmseg_pairs, ignore_index=255, validate=False),
        args.runs)
    u8_pairs = [(np.round(p * 255).astype(np.uint8), g.astype(bool))
                for p, g in data]
    t_u8, _ = timed(lambda: run_pr_counts(u8_pairs), args.runs)
    print('per map, each part timed on its own:')
    for name, t in (('CrackMetric without the counting', t_rest),
                    ('pr_counts, float32 map + int64 mask', t_pr),
                    ('pr_counts, uint8 map + bool mask', t_u8)):
        print(f'  {name:<37} {1000 * t / args.n:>6.3f} ms   loop / this '
              f'{t_loop / t:>6.1f}x')
    ok = (all(same_counts.values()) and all(r[2] for r in rows)
          and np.array_equal(np.stack(pr_list), m_counts))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
