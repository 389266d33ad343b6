"""The paper's comparisons at CPU scale, into benchmarks/RESULTS.md: its
Tables II, IV, V and the CRF rows of VI, on the combined protocol of
``paper_tables.py`` (whose data root and classifier it reuses: run that
first). Each table is a section of its own (``comparisons_table2``,
``comparisons_table4``, ``comparisons_table5_6``) and ``--tables`` runs a
subset: the sections of the others are kept.

* Table II: pseudo-label quality (ODS / OIS / AP against the training
  masks) and labelling speed (images/s, this machine) for each classifier
  (the pretrained EfficientNet-Lite0 of paper_tables.py, and a ResNet-18
  from scratch trained here for ``--cls-epochs``; ``--resnet50`` adds a
  ResNet-50 from scratch).
* Table IV: the ablation presets (no bilateral filters, no morphology,
  2-class Otsu) against the paper preset: labels only on the training and
  test images.
* Table V: the semi-supervised variant: the WSV model trained on the
  pseudo-labels of the training images *and* of the unlabelled test images
  (``extra_img_dirs``), scored on the test images.
* Table VI, CRF rows: CRF labels (Dong et al.: Grad-CAM + dense CRF with
  parameters grid-searched on 100 training images with their masks, as the
  paper does for this comparison method) alone and as WSV training labels;
  ``--affinity-walk`` adds the CAM + learned-affinity random walk + CRF
  labels alone (a partial build of the paper's CRF+RW labels, Wang et al.:
  its affinity network is trained on the training images, no masks).

Ground truth: the training masks are read to score the labels (Tables II
and IV) and, for the CRF comparison method only, by its grid search (the
method's own protocol); no WSV training run reads a mask.

    python benchmarks/comparison_tables.py [--paper-out work_dirs/paper_tables]
        [--out work_dirs/comparison_tables] [--seg-iters 1500]
        [--skip-semi] [--skip-crf-wsv] [--resnet50] [--affinity-walk]
        [--skip-scratch]
        [--ablation-splits train test] [--tables II IV V-VI] [--device cpu]
"""
import argparse
import json
import os.path as osp
import time

from paper_tables import protocol_seconds
from protocol_stages import (
    PAPER_TABLE_VI,
    WSV_CONFIG,
    invocation,
    machine_line,
    metrics_of,
    replace_section,
    score_labels_only,
    score_model,
    seg_schedule_options,
    stage_minutes,
    utc_now,
)

from mmcrack.apis.pipeline import (
    REPO,
    StageRunner,
    file_key,
    python_command,
    train_command,
)
from mmcrack.pseudo_label.label_folder import labels_made_with
from mmcrack.utils.checkpoints import find_checkpoint

PRETRAINED = 'configs/classifier/efficientnet-lite0_1xb16-4e_crack-patch.py'
SCRATCH = {
    'ResNet-18-w32 (scratch)':
    'configs/classifier/resnet18-w32_1xb16-4e_crack-patch.py',
    'ResNet-50 (scratch)':
    'configs/classifier/resnet50_1xb16-3e_crack-patch.py',
}
WSV_CRF = ('configs/wsv/unet-s5-d16-w16_fcn_1xb4-1000i_crackmix-256x256_'
           'wsv-crf.py')
ABLATIONS = {
    'paper': 'the paper\'s method (paper preset)',
    'ablation_no_bilateral': 'without the bilateral filters',
    'ablation_no_morphology': 'without erosion and closing',
    'ablation_otsu2': '2-class Otsu in the windows',
}
TABLES = ('II', 'IV', 'V-VI')
#: The project's target for the reference run (paper_tables.py) and every
#: table here together, at the short schedule (``--cls-epochs 1
#: --seg-iters 500`` for both scripts) without the optional flags, in
#: minutes of stage time on a 2-core CPU (benchmarks/README.md)
TARGET_MINUTES = 180


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--paper-out', default=osp.join('work_dirs',
                                                        'paper_tables'))
    parser.add_argument('--out', default=osp.join('work_dirs',
                                                  'comparison_tables'))
    parser.add_argument('--results',
                        default=osp.join(REPO, 'benchmarks', 'RESULTS.md'))
    parser.add_argument('--cls-config', default=PRETRAINED,
                        help='the classifier paper_tables.py trained')
    parser.add_argument('--seg-iters', type=int, default=1500)
    parser.add_argument('--cls-epochs', type=int, default=4)
    parser.add_argument('--crf-images', type=int, default=100)
    parser.add_argument('--crf-grid', default='default')
    parser.add_argument('--skip-semi', action='store_true')
    parser.add_argument('--skip-crf-wsv', action='store_true')
    parser.add_argument('--resnet50', action='store_true')
    parser.add_argument('--affinity-walk', action='store_true',
                        help='Table VI: add the CAM + learned-affinity '
                        'random walk + CRF labels (a partial build of the '
                        'CRF+RW comparison)')
    parser.add_argument('--skip-scratch', action='store_true',
                        help='Table II without the from-scratch ResNet-18')
    parser.add_argument('--ablation-splits', nargs='+',
                        choices=('train', 'test'), default=['train', 'test'],
                        help='the splits Table IV labels (the paper preset '
                        'always labels the test split: Tables V and VI)')
    parser.add_argument('--tables', nargs='+', choices=TABLES,
                        default=list(TABLES),
                        help='the tables to run; each is written to its '
                        'own RESULTS.md section, the others are kept')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args(argv)
    args.argv = argv  # the arguments of the results header (None: sys.argv)
    return args


def localization_cache(runner):
    """The folder of classifier maps shared by every labelling stage (one
    subfolder per classifier checkpoint; labels are the same as without
    it, and a preset relabelling the same images skips the classifier)."""
    return osp.join(runner.out, 'localization_cache')


def labels_on(runner, stage, cls_config, ckpt, data, out, device, preset,
              split):
    """Labels of one split scored against its masks, and the labelling
    speed (images/s of generate_pseudo_labels.py, from its summary)."""
    score_labels_only(runner, stage, cls_config, ckpt, data, out, device,
                      preset, split, localization_cache(runner))
    return labels_metrics(out)


def labels_metrics(out):
    """ODS / OIS / AP and images/s of a ``score_labels_only`` folder
    (None when some classifier maps came from the localisation cache: then
    the time is not that of the whole method)."""
    with open(osp.join(out, 'labels', 'summary.json')) as f:
        summary = json.load(f)
    rate = summary['generated'] / summary['seconds'] if \
        summary['generated'] and summary['seconds'] else None
    if summary.get('localization_cache', {}).get('hits'):
        rate = None
    return dict(metrics_of(osp.join(out, 'eval')), images_per_s=rate)


def _m(m):
    return f'{m["ODS"]:.3f} / {m["OIS"]:.3f} / {m["AP"]:.3f}'


def train_classifiers(args, runner, data, pretrained):
    """The classifiers of Table II: the pretrained one of paper_tables.py
    and the from-scratch ResNets trained here, ``{name: (config, ckpt)}``.
    """
    classifiers = {'EfficientNet-Lite0 (ImageNet)': (args.cls_config,
                                                     pretrained)}
    for name, config in SCRATCH.items():
        if args.skip_scratch or ('ResNet-50' in name and not args.resnet50):
            continue
        work = osp.join(runner.out, 'classifier_' + name.split()[0])
        runner.run(f'classifier {name}', [train_command(
            config, work, data, args.device,
            [f'train_cfg.max_epochs={args.cls_epochs}',
             'train_dataloader.dataset.dihedral_aug=random'])],
            lambda: find_checkpoint(work) is not None,
            max_epochs=args.cls_epochs)
        classifiers[name] = (config, find_checkpoint(work))
    return classifiers


def table2_rows(args, runner, data, classifiers):
    """Table II: labels of the training images per classifier."""
    return {name: dict(labels_on(
        runner, f'labels train {name}', config, ckpt, data,
        osp.join(runner.out, 'labels_train_' + name.split()[0]),
        args.device, 'paper', 'train'), checkpoint=ckpt)
        for name, (config, ckpt) in classifiers.items()}


def table4_rows(args, runner, data, config, ckpt, splits, presets=ABLATIONS,
                paper_train=None):
    """Table IV: ``{preset: {split: metrics}}`` of the ablation presets
    with the pretrained classifier; ``splits`` the labelled splits (the
    paper preset on the test split: reused from paper_tables.py when it
    labelled them with this checkpoint's bytes; on the training split:
    ``paper_train``, Table II's row, when given)."""
    rows = {}
    for preset in presets:
        rows[preset] = {}
        for split in splits:
            if preset == 'paper' and split == 'train' and paper_train:
                rows[preset][split] = paper_train  # Table II's row
                continue
            done = osp.join(args.paper_out, f'labels_{split}_{preset}')
            if split == 'test' and osp.isfile(
                    osp.join(done, 'eval', 'metrics.json')) and \
                    labels_made_with(osp.join(done, 'labels'), ckpt):
                rows[preset][split] = labels_metrics(done)
                continue
            rows[preset][split] = labels_on(
                runner, f'ablation {preset} {split}', config, ckpt, data,
                osp.join(runner.out, f'ablation_{preset}_{split}'),
                args.device, preset, split)
    return rows


def write_walk_preset(path, crf_preset, affinity_checkpoint):
    """An affinity-walk preset file with the grid-searched CRF fields of
    ``crf_preset`` and the trained network ``affinity_checkpoint``."""
    from mmcrack.pseudo_label.presets import PRESET_DIR, load_preset
    from mmcrack.utils.file_io import atomic_write_bytes
    base = osp.relpath(osp.join(PRESET_DIR, 'affinity_walk.py'),
                       osp.dirname(osp.abspath(path)))
    crf = load_preset(crf_preset)['crf']
    text = ('# affinity-walk labels with the CRF fields grid-searched for '
            'the CRF labels\n'
            f'_base_ = [{base!r}]\n'
            f'pseudo_label_generator = dict(\n    crf={crf!r},\n'
            f'    affinity=dict(checkpoint={affinity_checkpoint!r}))\n')
    atomic_write_bytes(path, text.encode())
    return path


def affinity_walk_rows(args, runner, data, config, ckpt, crf_preset):
    """The CAM + learned-affinity random walk + CRF labels (a partial
    build of the paper's CRF+RW comparison, not that method) of both
    splits: the affinity network trained on the training images (no
    masks), with the grid-searched CRF fields (``{'walk train': metrics,
    'walk test': metrics}``)."""
    out = osp.join(runner.out, 'affinity_walk')
    net = osp.join(out, 'affinity.pth')
    preset = write_walk_preset(osp.join(out, 'affinity_walk_best.py'),
                               crf_preset, net)
    runner.run('crf affinity network', [python_command(
        'tools/train_affinity_net.py', config, ckpt,
        osp.join(data, 'images', 'train'), '--out', net, '--preset', preset,
        '--device', args.device)], lambda: osp.isfile(net),
        key=dict(classifier=file_key(ckpt), crf=file_key(crf_preset)))
    return {f'walk {split}': labels_on(
        runner, f'crf affinity walk labels {split}', config, ckpt, data,
        osp.join(out, f'labels_{split}'), args.device, preset, split)
        for split in ('train', 'test')}


def crf_rows(args, runner, data, config, ckpt):
    """Table VI's CRF rows and Table V: the grid-searched CRF labels of
    both splits, and the WSV models on the CRF labels and on the training
    + test images' labels (``{name: test metrics}``)."""
    out = runner.out
    crf_preset = osp.join(out, 'crf_search', 'crf_best.py')
    runner.run('crf grid search', [python_command(
        'tools/analysis_tools/crf_grid_search.py', config, ckpt, data,
        '--split', 'train', '--num-images', args.crf_images, '--seed', 0,
        '--grid', args.crf_grid, '--workers', 2, '--out', crf_preset,
        '--device', args.device)], lambda: osp.isfile(crf_preset),
        key=dict(classifier=file_key(ckpt), grid=args.crf_grid,
                 images=args.crf_images))
    crf = {split: labels_on(runner, f'crf labels {split}', config, ckpt,
                            data, osp.join(out, f'crf_labels_{split}'),
                            args.device, crf_preset, split)
           for split in ('train', 'test')}
    if args.affinity_walk:
        crf.update(affinity_walk_rows(args, runner, data, config, ckpt,
                                      crf_preset))
    wsv_runs = {}
    if not args.skip_crf_wsv:
        wsv_runs['WSV on CRF labels'] = (WSV_CRF, [
            f'pseudo_label_generator.preset={crf_preset}'])
    if not args.skip_semi:
        wsv_runs['WSV, training + test images (semi-supervised)'] = (
            WSV_CONFIG,
            [f'extra_img_dirs=[{osp.join(data, "images", "test")}]',
             'pseudo_label_generator.localization_cache='
             f'{localization_cache(runner)}'])
    wsv = {}
    for name, (wsv_config, extra) in wsv_runs.items():
        work = osp.join(out, 'wsv_' + ('crf' if 'CRF' in name else 'semi'))
        runner.run(name, [train_command(
            wsv_config, work, data, args.device,
            seg_schedule_options(args.seg_iters) + extra + [
                f'classifier_config={config}',
                f'classifier_checkpoint={ckpt}'])],
            lambda: find_checkpoint(work) is not None,
            key=dict(classifier=file_key(ckpt), options=extra,
                     iters=args.seg_iters))
        wsv[name] = score_model(runner, f'{name} test', wsv_config,
                                find_checkpoint(work), data,
                                osp.join(work, 'test'), args.device)
    return crf, wsv


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    runner = StageRunner(args.out, name='comparison_tables')
    data = osp.abspath(osp.join(args.paper_out, 'data'))
    pretrained = find_checkpoint(osp.join(args.paper_out, 'pipeline',
                                          'classifier'))
    if pretrained is None or not osp.isdir(data):
        raise SystemExit(f'{args.paper_out}: run benchmarks/paper_tables.py '
                         'first (its data root and classifier are reused)')
    config, ckpt = args.cls_config, pretrained
    done = {}  # table -> its rows
    if 'II' in args.tables:
        classifiers = train_classifiers(args, runner, data, pretrained)
        done['II'] = table2_rows(args, runner, data, classifiers)
    if 'IV' in args.tables:
        splits = [s for s in ('train', 'test') if s in args.ablation_splits]
        done['IV'] = table4_rows(
            args, runner, data, config, ckpt, splits,
            paper_train=done.get('II', {}).get(
                'EfficientNet-Lite0 (ImageNet)'))
    if 'V-VI' in args.tables:
        paper_test = done.get('IV', {}).get('paper', {}).get('test') or \
            table4_rows(args, runner, data, config, ckpt, ['test'],
                        ['paper'])['paper']['test']
        crf, wsv = crf_rows(args, runner, data, config, ckpt)
        with open(osp.join(args.paper_out, 'pipeline', 'report.json')) as f:
            report = json.load(f)
        done['V-VI'] = (paper_test, crf, wsv, report)
    reference = protocol_seconds(args.paper_out) if osp.isfile(osp.join(
        args.paper_out, 'pipeline', 'report.json')) else None
    write(args, done, ckpt, time.time() - start, runner, reference)


#: the stages of each table (StageRunner names start with these)
TABLE_STAGES = {'II': ('classifier ', 'labels train '),
                'IV': ('ablation ', ),
                'V-VI': ('crf ', 'WSV', 'ablation paper test')}
#: RESULTS.md section of each table
SECTIONS = {'II': 'comparisons_table2', 'IV': 'comparisons_table4',
            'V-VI': 'comparisons_table5_6'}
TITLES = {
    'II': "The paper's Table II at CPU scale: pseudo-labels per classifier",
    'IV': "The paper's Table IV at CPU scale: ablations (labels only)",
    'V-VI': "The paper's Tables V and VI at CPU scale: semi-supervised WSV "
            'and the CRF labels'}


def budget_line(runner, reference):
    """The time of the reference run (``{stage: seconds}`` of
    paper_tables.py, or None when unknown) and of every comparison stage
    recorded by ``runner``, against ``TARGET_MINUTES``."""
    if reference is None:
        return []
    ref, own = stage_minutes(reference), stage_minutes(runner.seconds())
    total = ref + own
    met = 'met' if total <= TARGET_MINUTES else 'not met'
    return [f'**Time budget**: the reference run (paper_tables.py) '
            f'{ref:.1f} min + every comparison stage recorded in this '
            f'output folder {own:.1f} min = {total:.1f} min of stage time '
            f'(target ≤ {TARGET_MINUTES} min at the short schedule, '
            'without the optional `--resnet50` / `--affinity-walk` stages: '
            f'{met}; any optional stage run is counted here).', '']


def header(args, table, ckpt, wall, runner, reference=None):
    """The lines above a table: what wrote it, on which data and
    classifier, the ground-truth rule, machine, times, command."""
    command = invocation('comparison_tables.py', args.argv)
    minutes = stage_minutes({k: v for k, v in runner.seconds().items()
                             if k.startswith(TABLE_STAGES[table])})
    gt = {'II': 'Training masks are read only to score the labels.',
          'IV': 'Masks are read only to score the labels.',
          'V-VI': 'Training masks are read only by the CRF method\'s grid '
                  f'search (its own protocol: {args.crf_images} training '
                  'images with masks) and test masks only to score; no WSV '
                  'training reads a mask.'}[table]
    return [f'## {TITLES[table]}', '',
            f'Written by `benchmarks/comparison_tables.py` ({utc_now()} '
            f'UTC), on the data root of `{args.paper_out}` (the combined '
            'protocol of `benchmarks/paper_tables.py`) and its classifier '
            f'`{osp.relpath(ckpt, REPO)}` ({args.cls_config}). {gt}', '',
            f'**Machine**: {machine_line(args.device)}. **Wall time**: '
            f'{wall / 60:.1f} min for this invocation; the stage times of '
            f'this table: {minutes:.1f} min.', '',
            *budget_line(runner, reference),
            '**Command**:', '', '```', command, '```', '']


def table2_lines(args, rows):
    lines = ['| classifier | checkpoint | ODS / OIS / AP vs training masks '
             '| images/s |', '|---|---|---|---|']
    for name, m in rows.items():
        rate = f'{m["images_per_s"]:.2f}' if m['images_per_s'] else '–'
        lines.append(f'| {name} | `{osp.basename(m["checkpoint"])}` | '
                     f'{_m(m)} | {rate} |')
    return lines + ['', 'Images/s: `tools/generate_pseudo_labels.py` on '
                    'this machine, whole training images (steps 2 to 4).']


def table4_lines(args, rows):
    splits = [s for s in ('train', 'test') if s in args.ablation_splits]
    lines = ['| preset | what | ' + ' | '.join(
        f'{s}ing images' if s == 'train' else f'{s} images'
        for s in splits) + ' |', '|---|---|' + '---|' * len(splits)]
    for preset, what in ABLATIONS.items():
        lines.append(f'| `{preset}` | {what} | ' + ' | '.join(
            _m(rows[preset][s]) for s in splits) + ' |')
    return lines + ['', 'ODS / OIS / AP of the labels against the masks '
                    'of the same images.']


def table56_lines(args, rows):
    paper_test, crf, wsv, report = rows
    test = report['test']
    lines = ['Test images (DeepCrack test + CFD test), ODS / OIS / AP.', '',
             '| labels / model | ODS / OIS / AP |', '|---|---|',
             f'| paper\'s labels alone | {_m(paper_test)} |',
             f'| CRF labels alone (grid-searched) | {_m(crf["test"])} |']
    if 'WSV' in test:
        lines.append('| WSV on the paper\'s labels (combined protocol) | '
                     f'{_m(test["WSV"])} |')
    for name, m in wsv.items():
        lines.append(f'| {name} | {_m(m)} |')
    if 'walk test' in crf:
        lines.insert(6, '| CAM + affinity walk + CRF labels alone (partial '
                     f'CRF+RW, not that method) | {_m(crf["walk test"])} |')
    lines.append(f'| darkness floor | {_m(test["darkness"])} |')
    walk = [] if 'walk train' not in crf else [
        f'CAM + affinity walk + CRF labels on the training images: '
        f'{_m(crf["walk train"])}. They are a partial build of the '
        'paper\'s CRF+RW labels (Wang et al.): no sub-category '
        'exploration, and a small affinity network trained from scratch '
        '(docs/pseudo_labels.md).', '']
    return lines + [
        '', f'CRF labels on the training images: {_m(crf["train"])} '
        '(ODS / OIS / AP vs their masks).', '', *walk,
        'Paper (Table VI, combined protocol, ODS): ' + ', '.join(
            f'{k} {v:.4f}' for k, v in PAPER_TABLE_VI.items()) +
        '. The paper\'s numbers for its Tables II, IV, V and its CRF rows '
        'were not available to this project; the rows above are the same '
        'comparisons rerun here, not copies.']


def write(args, done, ckpt, wall, runner, reference=None):
    """Each table of ``done`` (``{'II' | 'IV' | 'V-VI': rows}``) into its
    own RESULTS.md section; the sections of tables not run are kept.
    ``reference``: the stage times of the paper_tables.py run (the time
    budget line), or None."""
    build = {'II': table2_lines, 'IV': table4_lines, 'V-VI': table56_lines}
    for table, rows in done.items():
        lines = header(args, table, ckpt, wall, runner, reference) + \
            build[table](args, rows) + ['']
        replace_section(args.results, SECTIONS[table], lines)
        print('\n'.join(lines))


if __name__ == '__main__':
    main()
