"""The pipeline without masks at CPU scale, into benchmarks/RESULTS.md
(section ``weak_labels``), on the combined protocol of ``paper_tables.py``
(its data root and numbers are the reference; these runs take the same
schedule options, checked against the reference's recorded command when the
table is written, so they may run beside it once its data root exists).

1. **Class folders**: the training images of the combined protocol are
   converted to crack / no-crack patch folders
   (``tools/dataset_converters/masks_to_classification.py``: the same
   128 px windows at stride 64 and the same labels as the mask-derived patch
   index), and ``tools/run_pipeline.py --cls-data FOLDERS --images IMAGES
   --test ROOT`` runs the classifier, the pseudo-labels and the WSV model
   from them with the reference's settings. Target: classifier patch F1 and
   WSV ODS within 0.01 of the mask-derived run.
2. **Image-level tile labels**: the training images cut into 256 px tiles,
   each labelled crack when it holds a crack pixel (``--image-level --tile
   256``), train the classifier through ``--cls-list``; the WSV model
   trains on the pseudo-labels of the full training images. Reports how much
   of the mask-derived run it keeps.
3. **Known negatives**: run 2 with ``--known-negatives`` (the no-crack tiles
   join the WSV training with empty masks).

No training or model-selection stage of these runs reads a mask (the
pipeline's audit lists what each stage opened); masks are read only to make
the weak labels (the conversion, standing in for a user's folders) and to
score.

    python benchmarks/weak_label_tables.py [--paper-out work_dirs/paper_tables]
        [--out work_dirs/weak_label_tables] [--runs folders tiles negatives]
        [--cls-epochs 4] [--seg-iters 1500] [--device cpu]

``--runs`` picks the runs of one invocation; invocations sharing ``--out``
keep each other's stages, and the table lists every run finished there.
"""
import argparse
import json
import os.path as osp
import shlex
import time

from protocol_stages import (
    add_schedule_arguments,
    invocation,
    machine_line,
    prf_cell,
    replace_section,
    schedule_pipeline_options,
    utc_now,
)

from mmcrack.apis.pipeline import REPO, StageRunner, python_command

FOLDERS_CONFIG = ('configs/classifier/efficientnet-lite0_1xb16-4e_'
                  'crack-folders.py')
LIST_CONFIG = ('configs/classifier/efficientnet-lite0_1xb16-4e_'
               'crack-image-list.py')
#: target (benchmarks/README.md): the folder run equals the mask-derived one
SAME_WITHIN = 0.01
#: the runs, in table order
RUNS = ('folders', 'tiles', 'negatives')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--paper-out', default=osp.join('work_dirs',
                                                        'paper_tables'))
    parser.add_argument('--out', default=osp.join('work_dirs',
                                                  'weak_label_tables'))
    parser.add_argument('--results',
                        default=osp.join(REPO, 'benchmarks', 'RESULTS.md'))
    parser.add_argument('--tile', type=int, default=256)
    parser.add_argument('--runs', nargs='+', choices=RUNS, default=RUNS,
                        help='the runs of this invocation (the table lists '
                        'all those finished under --out)')
    parser.add_argument('--device', default='cpu')
    add_schedule_arguments(parser)
    return parser.parse_args(argv)


def reference_command(paper_out):
    """The reference pipeline's classifier and segmentation options (the
    paper_tables run's own command, from its state)."""
    with open(osp.join(paper_out, 'pipeline_state.json')) as f:
        command = json.load(f)['pipeline']['commands'][0]
    args = shlex.split(command)
    opts, i = {}, 0
    while i < len(args):
        if args[i] in ('--cls-options', '--seg-options', '--wsv-config'):
            key, values = args[i], []
            i += 1
            while i < len(args) and not args[i].startswith('--'):
                values.append(args[i])
                i += 1
            opts[key] = values
        else:
            i += 1
    return opts


def pipeline(runner, name, options, device, weak_args, run=True):
    """``tools/run_pipeline.py`` with the protocol's ``options``
    (:func:`protocol_stages.schedule_pipeline_options` plus
    ``--wsv-config``) and the given weak-label arguments; returns its report
    (None when ``run`` is False and it is not finished)."""
    out = osp.join(runner.out, name)
    cmd = python_command('tools/run_pipeline.py', '--out', out, '--device',
                         device, *weak_args)
    for flag, values in options.items():
        cmd += [flag, *values]
    report = osp.join(out, 'report.json')
    if run:
        runner.forget(name)  # the inner pipeline reuses its own stages
        runner.run(name, [cmd], lambda: osp.isfile(report))
    if not osp.isfile(report):
        return None
    with open(report) as f:
        return json.load(f)


def same_options(ours, ref, paper_out):
    """Raise SystemExit unless the reference ran with these options."""
    differ = {k: (ours.get(k), ref.get(k)) for k in set(ours) | set(ref)
              if ours.get(k) != ref.get(k)}
    if differ:
        raise SystemExit(
            f'{paper_out}: the reference ran with other options than these '
            'runs (this invocation, reference): ' + '; '.join(
                f'{k}: {v[0]} vs {v[1]}' for k, v in sorted(differ.items()))
            + '. Pass the same --cls-epochs / --cls-dihedral / --seg-iters '
            '/ --wsv-config as benchmarks/paper_tables.py.')


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    runner = StageRunner(args.out, name='weak_label_tables')
    out = runner.out
    data = osp.abspath(osp.join(args.paper_out, 'data'))
    if not osp.isdir(osp.join(data, 'masks', 'test')):
        raise SystemExit(f'{args.paper_out}: no data root; start '
                         'benchmarks/paper_tables.py first (its run is the '
                         'reference)')
    options = dict(schedule_pipeline_options(args),
                   **{'--wsv-config': [args.wsv_config]})
    images = osp.join(data, 'images', 'train')
    runs = {}
    folders = osp.join(out, 'folders')
    if 'folders' in args.runs:
        runner.run('convert folders', [python_command(
            'tools/dataset_converters/masks_to_classification.py', data,
            '-o', folders, '--splits', 'train', 'val')],
            lambda: osp.isfile(osp.join(folders, 'conversion.json')))
    runs['class folders'] = pipeline(
        runner, 'from_folders', options, args.device,
        ['--cls-data', folders, '--cls-config', FOLDERS_CONFIG,
         '--images', images, '--test', data], 'folders' in args.runs)
    tiles = osp.join(out, f'tiles{args.tile}')
    if {'tiles', 'negatives'} & set(args.runs):
        runner.run('convert tiles', [python_command(
            'tools/dataset_converters/masks_to_classification.py', data,
            '-o', tiles, '--splits', 'train', '--image-level', '--tile',
            args.tile)],
            lambda: osp.isfile(osp.join(tiles, 'conversion.json')))
    listed = ['--cls-data', osp.join(tiles, 'train', 'images'),
              '--cls-list', osp.join(tiles, 'train', 'labels.txt'),
              '--cls-config', LIST_CONFIG, '--images', images, '--test',
              data]
    runs[f'{args.tile} px tile labels'] = pipeline(
        runner, 'from_tiles', options, args.device, listed,
        'tiles' in args.runs)
    runs[f'{args.tile} px tile labels + known negatives'] = pipeline(
        runner, 'from_tiles_negatives', options, args.device,
        listed + ['--known-negatives'], 'negatives' in args.runs)
    runs = {k: v for k, v in runs.items() if v is not None}

    ref_path = osp.join(args.paper_out, 'pipeline', 'report.json')
    if not osp.isfile(ref_path):
        raise SystemExit(f'{args.paper_out}: the reference run is not '
                         'finished (benchmarks/paper_tables.py); the runs '
                         'above are kept, rerun this to write the table')
    same_options(options, reference_command(args.paper_out), args.paper_out)
    with open(ref_path) as f:
        reference = json.load(f)
    write(args, reference, runs, time.time() - start, runner)


def _ods(m):
    return f'{m["ODS"]:.3f} / {m["OIS"]:.3f} / {m["AP"]:.3f}'


def write(args, reference, runs, wall, runner):
    command = invocation('weak_label_tables.py')
    lines = ['## Without masks: class folders and image-level labels', '',
             f'Written by `benchmarks/weak_label_tables.py` ({utc_now()} '
             'UTC) on the combined protocol\'s data. The reference is the '
             f'`benchmarks/paper_tables.py --out {args.paper_out}` run '
             '(patch labels derived from the masks) at the same schedule: '
             f'classifier {args.cls_epochs} epoch(s) '
             f'({args.cls_dihedral} dihedral pose), WSV `{args.wsv_config}` '
             f'{args.seg_iters or "config"} iterations; same classifier '
             'architecture, same WSV model, same test images. The weak '
             'labels are made from the training masks here (standing in for '
             'a user\'s folders); the pipeline runs read no mask in any '
             'training or selection stage (their audit, last column).', '',
             f'**Machine**: {machine_line(args.device)}. **Wall time**: '
             f'{wall / 60:.1f} min for this invocation; stage times '
             f'{sum(runner.seconds().values()) / 60:.1f} min.', '',
             '**Command**:', '', '```', command, '```', '',
             '| classifier trained on | patch P / R / F1 (test) | WSV ODS / '
             'OIS / AP (test) | pseudo-labels kept / images | mask paths '
             'read by the classifier / WSV stages |',
             '|---|---|---|---|---|',
             f'| patch labels from masks (reference) | '
             f'{prf_cell(reference["classifier"])} | '
             f'{_ods(reference["test"]["WSV"])} | '
             f'{reference["pseudo_label_counts"]["kept"]} / '
             f'{reference["pseudo_label_counts"]["images"]} | – |']
    verdicts = []
    for name, r in runs.items():
        access = r.get('mask_paths_accessed', {})
        read = ' / '.join(str(len(access.get(s) or []))
                          for s in ('classifier', 'wsv'))
        lines.append(f'| {name} | {prf_cell(r["classifier"])} | '
                     f'{_ods(r["test"]["WSV"])} | '
                     f'{r["pseudo_label_counts"]["kept"]} / '
                     f'{r["pseudo_label_counts"]["images"]} | {read} |')
        df1 = r['classifier']['f1'] - reference['classifier']['f1']
        dods = r['test']['WSV']['ODS'] - reference['test']['WSV']['ODS']
        text = f'{name}: patch F1 {df1:+.3f}, WSV ODS {dods:+.3f}'
        if name == 'class folders':
            ok = abs(df1) <= SAME_WITHIN and abs(dods) <= SAME_WITHIN
            text += (f' against the reference (target within ±'
                     f'{SAME_WITHIN:.2f}: {"met" if ok else "not met"})')
        else:
            share = r['test']['WSV']['ODS'] / reference['test']['WSV']['ODS']
            text += f' ({100 * share:.0f} % of the reference WSV ODS)'
        verdicts.append(text + '.')
    lines += ['', ' '.join(verdicts), '',
              'Darkness floor on the same test images: '
              f'{_ods(reference["test"]["darkness"])}.', '']
    replace_section(args.results, 'weak_labels', lines)
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
