"""Crack-patch classifier on the synthetic set: patch P / R / F1 and time.

Writes the embedded synthetic set (default splits), trains the small CPU
classifier config with ``tools/train.py`` and scores the test patches with
``tools/test.py`` (crack class precision / recall / F1, the paper's Table I),
then prints a table and checks the target crack F1 >= 0.85
(benchmarks/README.md).
Not part of CI (about 5 min on 2 cores).

    python benchmarks/bench_classifier_synthetic.py [--out DIR]
        [--config CONFIG] [--device cpu] [--min-f1 0.85]
"""
import argparse
import os
import os.path as osp
import platform
import subprocess
import sys
import time

from mmcrack.apis.pipeline import read_test_metrics
from mmcrack.utils.checkpoints import find_checkpoint

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/classifier/resnet18-w32_1xb16-4e_crack-patch.py'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='work_dirs/bench_classifier_synth')
    parser.add_argument('--config', default=CONFIG)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--min-f1', type=float, default=0.85)
    return parser.parse_args(argv)


def run(cmd):
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    print('$', ' '.join(cmd), flush=True)
    subprocess.run(cmd, cwd=REPO, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def main(argv=None):
    args = parse_args(argv)
    out = osp.abspath(args.out)
    data, work, test = (osp.join(out, d) for d in ('data', 'train', 'test'))
    py = sys.executable
    t0 = time.time()
    run([py, 'tools/dataset_converters/make_synthetic.py', data, '--seed',
         str(args.seed)])
    t1 = time.time()
    run([py, 'tools/train.py', args.config, '--work-dir', work,
         '--data-root', data, '--device', args.device])
    t2 = time.time()
    ckpt = find_checkpoint(work)
    run([py, 'tools/test.py', args.config, ckpt, '--work-dir', test,
         '--data-root', data, '--device', args.device])
    t3 = time.time()
    m = read_test_metrics(test)
    print(f'\n{args.config} on the synthetic set (seed {args.seed}); '
          f'{platform.machine()}, {os.cpu_count()} cores, {args.device}\n')
    print('| split | precision | recall | F1 | TP | FP | FN | TN |')
    print('|---|---|---|---|---|---|---|---|')
    print(f'| test | {m["precision"]:.4f} | {m["recall"]:.4f} | '
          f'{m["f1"]:.4f} | ' + ' | '.join(
              str(int(m[k])) for k in ('tp', 'fp', 'fn', 'tn')) + ' |')
    print(f'\ntime: data {t1 - t0:.0f} s, training {t2 - t1:.0f} s, '
          f'test {t3 - t2:.0f} s')
    ok = m['f1'] >= args.min_f1
    print(f'goal crack F1 >= {args.min_f1}: {"met" if ok else "NOT met"}')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
