"""Cross-dataset and small-data tables at CPU scale, into
benchmarks/RESULTS.md (sections ``cross_dataset`` and ``small_data``).

Cross-dataset (in the spirit of the paper's Table III): the classifier and
the WSV model are trained on one dataset only and scored on the test split
of the other, which they have never seen, and of their own:

* DeepCrack -> CFD: train on DeepCrack train (300);
* CFD -> DeepCrack: train on CFD train + val (71).

Small data: the classifier and the WSV model are trained on a fixed-seed
subset of the training images (50 DeepCrack, 30 CFD) and scored on the full
test split of the same dataset; the full-data run of the cross-dataset table
is the reference.

Each run compares an ImageNet-pretrained classifier with one trained from
scratch (``--classifiers``). No run reads a training or validation mask:
the classifiers learn from patch labels, the WSV models from pseudo-labels
(``WeaklySupervisedRunner``: no validation, the last checkpoint). Masks are
read only to score the finished maps on the test splits.

    python benchmarks/transfer_tables.py [--cross-dataset] [--small-data]
        [--directions DeepCrack-CFD CFD-DeepCrack]
        [--classifiers pretrained scratch] [--seg-iters 1000]
        [--scratch-wsv] [--out work_dirs/transfer_tables] [--device cpu]
"""
import argparse
import json
import os.path as osp
import time

from protocol_stages import (
    WSV_CONFIG,
    add_protocol_arguments,
    invocation,
    link_split,
    machine_line,
    prf_cell,
    replace_section,
    sample_stems,
    score_classifier,
    score_darkness,
    score_labels_only,
    score_model,
    seg_schedule_options,
    split_stems,
    utc_now,
)

from mmcrack.apis.pipeline import StageRunner, file_key, train_command
from mmcrack.utils.checkpoints import find_checkpoint
from mmcrack.utils.file_io import atomic_write_json

#: classifier name -> (config, what it is)
CLASSIFIERS = {
    'pretrained': ('configs/classifier/efficientnet-lite0_1xb16-4e_'
                   'crack-patch.py', 'EfficientNet-Lite0, ImageNet weights'),
    'scratch': ('configs/classifier/resnet18-w32_1xb16-4e_crack-patch.py',
                'ResNet-18 at half width, from scratch'),
}
#: cross-dataset directions: name -> (trained on, unseen)
DIRECTIONS = {'DeepCrack-CFD': ('DeepCrack', 'CFD'),
              'CFD-DeepCrack': ('CFD', 'DeepCrack')}
#: small-data subsets: dataset -> (images, classifier epochs)
SMALL = {'DeepCrack': (50, 8), 'CFD': (30, 12)}
#: target margins (benchmarks/README.md)
MARGIN_OVER_DARKNESS = 0.05
UNSEEN_F1_GAIN = 0.10
SMALL_VS_FULL_WSV = 0.05


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_protocol_arguments(parser, 'transfer_tables')
    parser.add_argument('--cross-dataset', action='store_true')
    parser.add_argument('--small-data', action='store_true')
    parser.add_argument('--directions', nargs='+', choices=DIRECTIONS,
                        default=list(DIRECTIONS),
                        help='cross-dataset directions to run (two '
                        'invocations may share --out and run in parallel; '
                        'a last one with all directions writes the table '
                        'from their finished stages)')
    parser.add_argument('--classifiers', nargs='+', choices=CLASSIFIERS,
                        default=['pretrained', 'scratch'])
    parser.add_argument('--cls-epochs', type=int, default=4,
                        help='classifier epochs of the full-data runs')
    parser.add_argument('--seg-iters', type=int, default=1000)
    parser.add_argument('--scratch-wsv', action='store_true',
                        help='also train the WSV model on the labels of '
                        'the from-scratch classifiers (+~25 min a run)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the small-data subsets')
    args = parser.parse_args(argv)
    if not (args.cross_dataset or args.small_data):
        args.cross_dataset = args.small_data = True
    return args


def build_root(args, dataset, root, stems=None):
    """A data root of one dataset: train (optionally a subset), val (CFD's,
    or 5 training images for DeepCrack, which has none: the classifier's
    per-epoch log only), test. Returns the training image count."""
    src = args.deepcrack if dataset == 'DeepCrack' else args.cfd
    n = link_split(src, '', 'train', root, 'train', stems)
    if dataset == 'CFD' and stems is None:
        n += link_split(src, '', 'val', root, 'train')
    if dataset == 'CFD':
        link_split(src, '', 'val', root, 'val')
    else:
        link_split(src, '', 'train', root, 'val',
                   (stems or split_stems(src, 'train'))[:5])
    link_split(src, '', 'test', root, 'test')
    return n


def cls_options(epochs):
    return [f'train_cfg.max_epochs={epochs}',
            f'param_scheduler.step_size={max(1, epochs - 1)}',
            'train_dataloader.dataset.dihedral_aug=random']


def run_one(args, runner, name, root, cls, epochs, test_sets, with_wsv):
    """Train the classifier (and the WSV model) on ``root``'s training
    images and score them on every test set. Returns the results dict."""
    out = osp.join(runner.out, name)
    cls_config = CLASSIFIERS[cls][0]
    cls_dir = osp.join(out, 'classifier')
    runner.run(f'{name}/classifier', [
        train_command(cls_config, cls_dir, root, args.device,
                      cls_options(epochs))
    ], lambda: find_checkpoint(cls_dir) is not None,
        key=dict(config=cls_config, options=cls_options(epochs),
                 root=osp.abspath(root)), max_epochs=epochs)
    ckpt = find_checkpoint(cls_dir)
    res = dict(classifier={}, labels={}, wsv={}, darkness={},
               config=cls_config, epochs=epochs)
    wsv_ckpt = None
    if with_wsv:
        wsv_dir = osp.join(out, 'wsv')
        runner.run(f'{name}/wsv', [
            train_command(WSV_CONFIG, wsv_dir, root, args.device,
                          seg_schedule_options(args.seg_iters) + [
                              f'classifier_config={cls_config}',
                              f'classifier_checkpoint={ckpt}'])
        ], lambda: find_checkpoint(wsv_dir) is not None,
            key=dict(classifier=file_key(ckpt),
                     options=seg_schedule_options(args.seg_iters)))
        wsv_ckpt = find_checkpoint(wsv_dir)
    for set_name, test_root in test_sets.items():
        tag = f'{name}/{set_name}'
        res['classifier'][set_name] = score_classifier(
            runner, f'{tag}/classifier_test', cls_config, ckpt, test_root,
            osp.join(out, f'classifier_test_{set_name}'), args.device)
        res['labels'][set_name] = score_labels_only(
            runner, f'{tag}/labels', cls_config, ckpt, test_root,
            osp.join(out, f'labels_{set_name}'), args.device)
        res['darkness'][set_name] = score_darkness(
            runner, f'darkness/{set_name}', test_root,
            osp.join(runner.out, f'darkness_{set_name}'))
        if wsv_ckpt is not None:
            res['wsv'][set_name] = score_model(
                runner, f'{tag}/wsv_test', WSV_CONFIG, wsv_ckpt, test_root,
                osp.join(out, f'wsv_test_{set_name}'), args.device)
    res['seconds'] = sum(v for k, v in runner.seconds().items()
                         if k.startswith(name + '/'))
    atomic_write_json(osp.join(out, 'results.json'), res)
    return res


def saved_results(out, name):
    """The results a run of an earlier invocation saved, or None."""
    path = osp.join(out, name, 'results.json')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def wall_text(wall, runs):
    """This invocation's wall time and the recorded stage times of ``runs``
    (results dicts of :func:`run_one`; stages reused from earlier or
    parallel invocations count with the time they took then)."""
    total = sum(r['seconds'] for r in runs)
    return (f'{wall / 60:.1f} min for this invocation; the runs\' stage '
            f'times (recorded when each stage ran) add up to '
            f'{total / 60:.1f} min')


def _ods(m):
    return f'{m["ODS"]:.3f}' if m else '–'


def _check(ok):
    return 'met' if ok else 'not met'


def cross_lines(args, results, wall, command):
    runs = [r for per_cls in results.values() for r in per_cls.values()]
    lines = ['## Cross-dataset: trained on one set, tested on the other',
             '', f'Written by `benchmarks/transfer_tables.py` ({utc_now()} '
             'UTC). Classifier and WSV model trained on one dataset\'s '
             'training images only (patch labels, pseudo-labels; no mask '
             'read), scored on the test split of the other dataset '
             '("unseen") and of their own. WSV: '
             f'`{WSV_CONFIG}`, {args.seg_iters} iterations, last '
             'checkpoint.', '',
             f'**Machine**: {machine_line(args.device)}. **Wall time**: '
             f'{wall_text(wall, runs)}.', '',
             '**Command**:', '', '```', command, '```', '',
             '| trained on | tested on | classifier | patch P / R / F1 | '
             'labels only ODS | WSV ODS | darkness ODS |',
             '|---|---|---|---|---|---|---|']
    verdicts = []
    for (train, unseen), per_cls in results.items():
        for test in (unseen, train):
            for cls, r in per_cls.items():
                c = r['classifier'][test]
                where = f'{test} (unseen)' if test == unseen else test
                lines.append(
                    f'| {train} | {where} | {cls} | {prf_cell(c)} | '
                    f'{_ods(r["labels"][test])} | '
                    f'{_ods(r["wsv"].get(test))} | '
                    f'{_ods(r["darkness"][test])} |')
        if 'pretrained' in per_cls:
            r = per_cls['pretrained']
            dark = r['darkness'][unseen]['ODS']
            lab = r['labels'][unseen]['ODS']
            text = (f'{train} → {unseen}: labels only {lab - dark:+.3f} '
                    f'over the darkness map (target ≥ '
                    f'+{MARGIN_OVER_DARKNESS:.2f}: '
                    f'{_check(lab - dark >= MARGIN_OVER_DARKNESS)})')
            if r['wsv'].get(unseen):
                w = r['wsv'][unseen]['ODS']
                text += (f', WSV {w - dark:+.3f} '
                         f'({_check(w - dark >= MARGIN_OVER_DARKNESS)})')
            if 'scratch' in per_cls:
                gain = (r['classifier'][unseen]['f1'] -
                        per_cls['scratch']['classifier'][unseen]['f1'])
                text += (f', unseen patch F1 {gain:+.3f} over from scratch '
                         f'(target ≥ +{UNSEEN_F1_GAIN:.2f}: '
                         f'{_check(gain >= UNSEEN_F1_GAIN)})')
            verdicts.append(text + '.')
    lines += ['', 'Targets (benchmarks/README.md), pretrained classifier: '
              + ' '.join(verdicts), '', 'Run times (s): ' + ', '.join(
                  f'{train} {cls} {r["seconds"]:.0f}'
                  for (train, _), per_cls in results.items()
                  for cls, r in per_cls.items()) + '.']
    return lines


def small_lines(args, results, full, wall, command):
    runs = [r for _, per_cls in results.values() for r in per_cls.values()]
    lines = ['## Small data: a few training images', '',
             f'Written by `benchmarks/transfer_tables.py` ({utc_now()} '
             f'UTC). A fixed-seed (seed {args.seed}) subset of the training '
             'images; the classifier gets more epochs to see a comparable '
             'number of patches; scored on the full test split of the same '
             'dataset. "Full data" is the cross-dataset run on all training '
             'images of that dataset.', '',
             f'**Machine**: {machine_line(args.device)}. **Wall time**: '
             f'{wall_text(wall, runs)}.', '',
             '**Command**:', '', '```', command, '```', '',
             '| dataset | training images | classifier | epochs | patch '
             'P / R / F1 | labels only ODS | WSV ODS | full-data WSV ODS | '
             'darkness ODS |', '|---|---|---|---|---|---|---|---|---|']
    verdicts = []
    for dataset, (n, per_cls) in results.items():
        ref = full.get(dataset)
        for cls, r in per_cls.items():
            c = r['classifier'][dataset]
            lines.append(
                f'| {dataset} | {n} | {cls} | {r["epochs"]} | {prf_cell(c)} '
                f'| {_ods(r["labels"][dataset])} | '
                f'{_ods(r["wsv"].get(dataset))} | {_ods(ref)} | '
                f'{_ods(r["darkness"][dataset])} |')
        if 'pretrained' in per_cls:
            r = per_cls['pretrained']
            dark = r['darkness'][dataset]['ODS']
            lab = r['labels'][dataset]['ODS']
            text = (f'{dataset} {n}: labels only {lab - dark:+.3f} over the '
                    f'darkness map ({_check(lab - dark >= 0.05)})')
            if r['wsv'].get(dataset):
                w = r['wsv'][dataset]['ODS']
                text += f', WSV {w - dark:+.3f} ({_check(w - dark >= 0.05)})'
                if ref:
                    gap = ref['ODS'] - w
                    text += (f', {gap:.3f} below the full-data WSV (target '
                             f'≤ {SMALL_VS_FULL_WSV:.2f}: '
                             f'{_check(gap <= SMALL_VS_FULL_WSV)})')
            verdicts.append(text + '.')
    lines += ['', 'Targets (benchmarks/README.md), pretrained classifier: '
              + ' '.join(verdicts)]
    return lines


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    runner = StageRunner(args.out, name='transfer_tables')
    out = runner.out
    roots = {}
    for dataset in ('DeepCrack', 'CFD'):
        roots[dataset] = osp.join(out, 'data', dataset)
        build_root(args, dataset, roots[dataset])
    command = invocation('transfer_tables.py', argv)
    cross, full = {}, {}
    if args.cross_dataset:
        for train, unseen in (DIRECTIONS[d] for d in args.directions):
            per_cls = {}
            for cls in args.classifiers:
                per_cls[cls] = run_one(
                    args, runner, f'{train}_{cls}', roots[train], cls,
                    args.cls_epochs, {unseen: roots[unseen],
                                      train: roots[train]},
                    with_wsv=cls == 'pretrained' or args.scratch_wsv)
            cross[(train, unseen)] = per_cls
            if 'pretrained' in per_cls:
                full[train] = per_cls['pretrained']['wsv'].get(train)
        replace_section(args.results, 'cross_dataset',
                        cross_lines(args, cross, time.time() - start,
                                    command))
    if args.small_data:
        small_start = time.time()
        small = {}
        for dataset in SMALL:  # full-data references of an earlier run
            if dataset not in full:
                saved = saved_results(out, f'{dataset}_pretrained')
                if saved:
                    full[dataset] = saved['wsv'].get(dataset)
        for dataset, (n, epochs) in SMALL.items():
            src = args.deepcrack if dataset == 'DeepCrack' else args.cfd
            stems = sample_stems(src, 'train', n, args.seed)
            root = osp.join(out, 'data', f'{dataset}_{n}')
            build_root(args, dataset, root, stems)
            per_cls = {}
            for cls in args.classifiers:
                per_cls[cls] = run_one(
                    args, runner, f'{dataset}{n}_{cls}', root, cls, epochs,
                    {dataset: roots[dataset]},
                    with_wsv=cls == 'pretrained' or args.scratch_wsv)
            small[dataset] = (n, per_cls)
        replace_section(args.results, 'small_data',
                        small_lines(args, small, full,
                                    time.time() - small_start, command))
    with open(args.results) as f:
        print(f.read())


if __name__ == '__main__':
    main()
