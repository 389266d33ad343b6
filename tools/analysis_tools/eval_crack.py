"""ODS / OIS / AP of folders of crack probability maps (exact, histogram).

    python tools/analysis_tools/eval_crack.py PRED_DIR GT_DIR [--out DIR]
    python tools/analysis_tools/eval_crack.py PRED_DIR GT_DIR \\
        --compare OTHER_PRED_DIR ... --labels ours other ... --out DIR \\
        [--images IMG_DIR]

PRED_DIR holds 8-bit grey images (0-255, read as v/255) or float .npy maps
in [0, 1]; GT_DIR holds 0/255 masks; files are paired by stem. Prints a
table and, with ``--out``, writes ``metrics.json``, ``pr_curve.png`` (all
methods on one plot, ODS point marked) and ``index.html``, a page of every
image worst first (photos from ``--images``; one page per method with
``--compare``; ``docs/report.md``). Definitions: ``docs/metrics.md``.
"""
import argparse
import os.path as osp
import sys

try:
    import mmcrack  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))

from mmcrack.evaluation.folder_eval import evaluate_folder, plot_pr_curves
from mmcrack.evaluation.functional import F1_MODES, check_thresholds
from mmcrack.utils.file_io import (
    NotWritableError,
    atomic_write_json,
    ensure_writable_dir,
    read_split_file,
)
from mmcrack.visualization import write_html_report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='ODS / OIS / AP of crack probability maps vs masks')
    parser.add_argument('pred_dir', help='folder of probability maps '
                        '(8-bit PNG 0-255 or float .npy in [0, 1])')
    parser.add_argument('gt_dir', help='folder of 0/255 ground-truth masks')
    parser.add_argument('--compare', nargs='+', default=[], metavar='DIR',
                        help='more prediction folders, overlaid on the PR '
                        'plot (evaluated against the same GT_DIR)')
    parser.add_argument('--labels', nargs='+', default=None,
                        help='legend/table labels, one per prediction folder '
                        '(default: folder names)')
    parser.add_argument('--out', default=None, metavar='DIR',
                        help='write metrics.json and pr_curve.png here')
    parser.add_argument('--f1-mode', choices=F1_MODES, default='mean',
                        help="'mean': per-image F1 (paper); 'pooled': F1 of "
                        'counts summed over images (DeepSegmentor, '
                        'CrackFormer)')
    parser.add_argument('--thresholds', type=int, default=100, metavar='N',
                        help='threshold grid k/N, k=1..N-1 (default 100: '
                        '0.01..0.99)')
    parser.add_argument('--mask-rule', choices=('ge128', 'nonzero'),
                        default='ge128',
                        help="GT binarisation: 'ge128' for 0/255 masks, "
                        "'nonzero' for 0/1 masks")
    parser.add_argument('--split', default=None,
                        help='optional file of stems to evaluate (one a line)')
    parser.add_argument('--title', default=None, help='PR plot title')
    parser.add_argument('--images', default=None, metavar='IMG_DIR',
                        help='input photos (paired by stem) shown in the '
                        'report, index.html')
    parser.add_argument('--no-report', action='store_true',
                        help='write metrics.json and pr_curve.png only')
    args = parser.parse_args(argv)
    if args.images and not args.out:
        parser.error('--images is for the report: give --out too')
    return args


def _labels(dirs, labels):
    if labels is not None:
        if len(labels) != len(dirs):
            raise SystemExit(f'--labels has {len(labels)} entries but there '
                             f'are {len(dirs)} prediction folders')
        if len(set(labels)) != len(labels):
            raise SystemExit(f'--labels must be unique, got {labels}')
        return list(labels)
    out = []
    for d in dirs:
        name = osp.basename(osp.normpath(d)) or d
        base, i = name, 2
        while name in out:
            name, i = f'{base}_{i}', i + 1
        out.append(name)
    return out


def format_table(rows) -> str:
    """rows: [(label, summary), ...] -> aligned text table."""
    w = max(8, *(len(label) for label, _ in rows))
    lines = [f'{"method":<{w}}  {"images":>6}  {"ODS":>6}  {"ODS_thr":>7}  '
             f'{"OIS":>6}  {"AP":>6}']
    for label, s in rows:
        lines.append(f'{label:<{w}}  {s["n_images"]:>6d}  {s["ODS"]:>6.4f}  '
                     f'{s["ODS_thr"]:>7.2f}  {s["OIS"]:>6.4f}  '
                     f'{s["AP"]:>6.4f}')
    return '\n'.join(lines)


def _jsonable(summary):
    out = {}
    for k, v in summary.items():
        out[k] = v.tolist() if hasattr(v, 'tolist') else v
    stems = out.pop('stems')
    out['per_image'] = {
        s: dict(best_f1=f, best_thr=t)
        for s, f, t in zip(stems, out.pop('image_best_f1'),
                           out.pop('image_best_thr'))
    }
    return out


def main(argv=None):
    args = parse_args(argv)
    thresholds = check_thresholds(args.thresholds)
    dirs = [args.pred_dir] + list(args.compare)
    labels = _labels(dirs, args.labels)
    stems = read_split_file(args.split) if args.split else None
    if args.out:  # before evaluating anything
        ensure_writable_dir(args.out, '--out folder')
    if args.images and not osp.isdir(args.images):
        raise FileNotFoundError(f'--images folder not found: {args.images}')
    rows = []
    for label, d in zip(labels, dirs):
        summary = evaluate_folder(d, args.gt_dir, thresholds, args.f1_mode,
                                  args.mask_rule, stems)
        rows.append((label, summary))
    print(f'f1_mode={args.f1_mode}, thresholds {thresholds[0]:g}..'
          f'{thresholds[-1]:g} ({len(thresholds)}), GT {args.gt_dir}')
    print(format_table(rows))
    if args.out:
        result = dict(
            gt_dir=args.gt_dir,
            f1_mode=args.f1_mode,
            mask_rule=args.mask_rule,
            methods={label: _jsonable(s)
                     for label, s in rows})
        json_path = osp.join(args.out, 'metrics.json')
        png_path = osp.join(args.out, 'pr_curve.png')
        atomic_write_json(json_path, result)
        plot_pr_curves(rows, png_path, title=args.title)
        print(f'wrote {json_path} and {png_path}')
        if not args.no_report:
            pages = write_html_report(args.out, rows, args.gt_dir,
                                      images=args.images,
                                      mask_rule=args.mask_rule,
                                      title=args.title)
            print(f'wrote {pages[0]}' + (f' (+{len(pages) - 1} method '
                                         'pages)' if len(pages) > 1 else ''))
    return rows


if __name__ == '__main__':
    try:
        main()
    except (ValueError, FileNotFoundError, NotWritableError) as e:
        print(f'eval_crack: error: {e}', file=sys.stderr)
        sys.exit(1)
