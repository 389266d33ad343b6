"""The pipeline without masks at CPU scale, into benchmarks/RESULTS.md
(section ``weak_labels``), on the combined protocol of ``paper_tables.py``
(its data root, settings and numbers are the reference: run it first).

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
        [--out work_dirs/weak_label_tables] [--skip-tiles]
        [--skip-negatives] [--device cpu]
"""
import argparse
import json
import os.path as osp
import shlex
import sys
import time

from protocol_stages import machine_line, prf_cell, replace_section, utc_now

from mmcrack.apis.pipeline import REPO, StageRunner, python_command

FOLDERS_CONFIG = ('configs/classifier/efficientnet-lite0_1xb16-4e_'
                  'crack-folders.py')
LIST_CONFIG = ('configs/classifier/efficientnet-lite0_1xb16-4e_'
               'crack-image-list.py')
#: target (benchmarks/README.md): the folder run equals the mask-derived one
SAME_WITHIN = 0.01


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--paper-out', default=osp.join('work_dirs',
                                                        'paper_tables'))
    parser.add_argument('--out', default=osp.join('work_dirs',
                                                  'weak_label_tables'))
    parser.add_argument('--results',
                        default=osp.join(REPO, 'benchmarks', 'RESULTS.md'))
    parser.add_argument('--tile', type=int, default=256)
    parser.add_argument('--skip-tiles', action='store_true')
    parser.add_argument('--skip-negatives', action='store_true')
    parser.add_argument('--device', default='cpu')
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


def pipeline(runner, name, ref, device, weak_args):
    """``tools/run_pipeline.py`` with the reference's options and the given
    weak-label arguments; returns its report."""
    out = osp.join(runner.out, name)
    cmd = python_command(
        'tools/run_pipeline.py', '--out', out, '--device', device,
        *weak_args, '--wsv-config', *ref['--wsv-config'],
        '--cls-options', *[o for o in ref['--cls-options']],
        '--seg-options', *ref['--seg-options'])
    report = osp.join(out, 'report.json')
    runner.forget(name)  # the inner pipeline reuses its own stages
    runner.run(name, [cmd], lambda: osp.isfile(report))
    with open(report) as f:
        return json.load(f)


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    runner = StageRunner(args.out, name='weak_label_tables')
    out = runner.out
    data = osp.abspath(osp.join(args.paper_out, 'data'))
    ref_path = osp.join(args.paper_out, 'pipeline', 'report.json')
    if not osp.isfile(ref_path):
        raise SystemExit(f'{args.paper_out}: run benchmarks/paper_tables.py '
                         'first (its run is the reference)')
    with open(ref_path) as f:
        reference = json.load(f)
    ref = reference_command(args.paper_out)
    images = osp.join(data, 'images', 'train')

    folders = osp.join(out, 'folders')
    runner.run('convert folders', [python_command(
        'tools/dataset_converters/masks_to_classification.py', data, '-o',
        folders, '--splits', 'train', 'val')],
        lambda: osp.isfile(osp.join(folders, 'conversion.json')))
    runs = {'class folders': pipeline(
        runner, 'from_folders', ref, args.device,
        ['--cls-data', folders, '--cls-config', FOLDERS_CONFIG,
         '--images', images, '--test', data])}
    if not args.skip_tiles:
        tiles = osp.join(out, f'tiles{args.tile}')
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
            runner, 'from_tiles', ref, args.device, listed)
        if not args.skip_negatives:
            runs[f'{args.tile} px tile labels + known negatives'] = \
                pipeline(runner, 'from_tiles_negatives', ref, args.device,
                         listed + ['--known-negatives'])
    write(args, reference, runs, time.time() - start, runner)


def _ods(m):
    return f'{m["ODS"]:.3f} / {m["OIS"]:.3f} / {m["AP"]:.3f}'


def write(args, reference, runs, wall, runner):
    command = 'python benchmarks/weak_label_tables.py ' + ' '.join(
        shlex.quote(a) for a in sys.argv[1:])
    lines = ['## Without masks: class folders and image-level labels', '',
             f'Written by `benchmarks/weak_label_tables.py` ({utc_now()} '
             'UTC) on the combined protocol (section above, the reference '
             'run with masks-derived patch labels): same classifier '
             'architecture and schedule, same WSV model and schedule, same '
             'test images. The weak labels are made from the training masks '
             'here (standing in for a user\'s folders); the pipeline runs '
             'read no mask in any training or selection stage (its audit '
             'below).', '',
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
