"""The main job: patch labels -> classifier -> pseudo-labels -> weakly-
supervised segmentation -> evaluated crack maps, in one command.

    python tools/run_pipeline.py                      # synthetic set, CPU
    python tools/run_pipeline.py --data ../shared/datasets/CFD --fsv
    python tools/run_pipeline.py --launcher pytorch --nproc 2

Without any mask (crack / no-crack photos or patches, and unlabelled
photos to segment; masks only, if at all, for a scored test set):

    python tools/run_pipeline.py --cls-data PATCH_FOLDERS --images PHOTOS \
        [--test ROOT]                  # crack/ + no_crack/ (Positive/...)
    python tools/run_pipeline.py --cls-data IMAGES --cls-list labels.txt \
        --images PHOTOS [--test ROOT] [--known-negatives]
    python tools/run_pipeline.py --classification   # synthetic weak labels

Stages (each an ordinary config + tools/*.py call, printed and recorded in
the report so it can be rerun by hand; a finished stage is reused when what
it depends on is unchanged; mmcrack.apis.pipeline runs them and shows each
stage's progress):

  data        tools/dataset_converters/make_synthetic.py (without --data)
  classifier  tools/train.py CLS_CONFIG, then tools/test.py (patch P/R/F1)
  wsv         tools/train.py WSV_CONFIG: PseudoLabelHook labels the training
              images with the classifier, the model trains on them; no
              mask is read (WeaklySupervisedRunner), the last checkpoint
              is the result
  labels      tools/analysis_tools/eval_crack.py: pseudo-labels vs the
              training ground truth (labels-only ODS/OIS/AP)
  wsv_test    tools/test.py + tools/infer.py on the test split
  fsv         (--fsv) the fully-supervised twin, trained on ground truth
  baselines   tools/analysis_tools/baseline_maps.py (darkness, global Otsu)
  report      tools/analysis_tools/eval_crack.py --compare: PR curves;
              OUT/report.md + OUT/report.json

The data root must have images/{train,test} and masks/test; masks/train,
when there, gives the classifier its patch labels (one crack / no-crack bit
per 128 px window) and is used to judge the pseudo-labels afterwards (and,
with --fsv, to train the fully-supervised twin, which keeps its best
checkpoint on the validation masks). With --cls-data the classifier learns
from class folders or an image-level list instead and no mask exists
anywhere in the training inputs. Every stage's Python-level file accesses
under a ``masks`` folder are recorded (StageRunner's audit) and the report
lists them per stage.
"""
import argparse
import json
import os.path as osp
import sys

from mmcrack.apis.pipeline import (
    StageRunner,
    file_key,
    markdown_table,
    python_command,
    read_test_metrics,
    test_command,
    train_command,
)
from mmcrack.evaluation.baselines import BASELINES
from mmcrack.utils.checkpoints import find_checkpoint
from mmcrack.utils.file_io import (
    atomic_write_bytes,
    atomic_write_json,
    ensure_symlink,
)

CLS_CONFIG = 'configs/classifier/resnet18-w32_1xb16-4e_crack-patch.py'
CLS_FOLDERS_CONFIG = ('configs/classifier/resnet18-w32_1xb16-4e_'
                      'crack-folders.py')
CLS_LIST_CONFIG = ('configs/classifier/resnet18-w32_1xb16-4e_'
                   'crack-image-list.py')
WSV_CONFIG = 'configs/wsv/unet-s5-d16_fcn_1xb4-400i_synthetic-256x256_wsv.py'
WSV_CROP_CONFIG = ('configs/wsv/unet-s5-d16-w16_fcn_1xb4-1000i_crackmix-'
                   '256x256_wsv.py')
FSV_CONFIG = 'configs/unet/unet-s5-d16_fcn_1xb4-400i_synthetic-256x256.py'

# --smoke: seconds per stage (tests); not for results
SMOKE_DATA = ['--train', '6', '--val', '2', '--test', '3', '--size', '64',
              '64']
_NO_WORKERS = [
    f'{loader}_dataloader.{key}'
    for loader in ('train', 'val', 'test')
    for key in ('num_workers=0', 'persistent_workers=False')
]
SMOKE_CLS = ['train_cfg.max_epochs=1'] + _NO_WORKERS + [
    f'{loader}_dataloader.dataset.{key}=32'
    for loader in ('train', 'val', 'test') for key in ('patch_size', 'stride')
]
SMOKE_SEG = [
    'train_cfg.max_iters=4', 'train_cfg.val_interval=4',
    'default_hooks.checkpoint.interval=4', 'train_dataloader.batch_size=2'
] + _NO_WORKERS
SMOKE_WSV = ['pseudo_label_generator.output.min_crack_pixels=1']


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data', help='dataset root (default: generate the '
                        'synthetic set into OUT/data)')
    parser.add_argument('--out', default='work_dirs/pipeline')
    parser.add_argument('--cls-config',
                        help='classifier config (default: the CPU ResNet-18 '
                        'for the data given: patches from masks, class '
                        'folders or an image list)')
    parser.add_argument('--cls-data',
                        help='weak labels instead of masks: a folder of '
                        'class folders (crack/ no_crack/, Positive/ '
                        'Negative/, DIR/{train,val}/<class>/ ...), or with '
                        '--cls-list the folder of the listed images')
    parser.add_argument('--cls-list',
                        help='stem,label list of the images in --cls-data '
                        '(image-level labels)')
    parser.add_argument('--images',
                        help='with --cls-data: the unlabelled photos to '
                        'pseudo-label and train the WSV model on')
    parser.add_argument('--test',
                        help='with --cls-data: a data root with '
                        'images/test and masks/test to score on')
    parser.add_argument('--known-negatives', action='store_true',
                        help='with --cls-list: the images labelled no_crack '
                        'join the WSV training with empty masks')
    parser.add_argument('--classification', action='store_true',
                        help='the synthetic set in its weak-label layout '
                        '(class folders + image list), run with --cls-data')
    parser.add_argument('--wsv-config',
                        help='default: the CPU U-Net of the demo, on random '
                        '256 px crops with --cls-data')
    parser.add_argument('--fsv-config', default=FSV_CONFIG)
    parser.add_argument('--fsv', action='store_true',
                        help='also train the fully-supervised twin')
    parser.add_argument('--device', default='auto',
                        choices=['auto', 'cpu', 'cuda'])
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch'])
    parser.add_argument('--nproc', type=int, default=2,
                        help='processes per training stage with '
                        '--launcher pytorch')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the synthetic set (training seeds '
                        'come from the configs)')
    parser.add_argument('--smoke', action='store_true',
                        help='tiny data and runs (seconds per stage)')
    parser.add_argument('--cls-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='extra --cfg-options for the classifier '
                        'stages, e.g. train_cfg.max_epochs=1')
    parser.add_argument('--seg-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='extra --cfg-options for the segmentation '
                        'stages (WSV and FSV), e.g. train_cfg.max_iters=800')
    parser.add_argument('--wsv-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='extra --cfg-options for the WSV training '
                        'only, e.g. pseudo_label_generator.output.'
                        'threshold=0.1')
    args = parser.parse_args(argv)
    weak = args.cls_data or args.classification
    if args.cls_data and not args.images:
        parser.error('--cls-data needs --images (the photos to segment)')
    if (args.cls_list or args.images or args.test) and not weak:
        parser.error('--cls-list, --images and --test go with --cls-data')
    if args.known_negatives and not (args.cls_list or args.classification):
        parser.error('--known-negatives needs image-level labels '
                     '(--cls-list)')
    if args.data and weak:
        parser.error('--data (masks) and --cls-data (weak labels) exclude '
                     'each other')
    if args.fsv and weak:
        parser.error('--fsv trains on masks: not with --cls-data')
    if args.classification and (args.cls_data or args.cls_list
                                or args.images or args.test):
        parser.error('--classification makes its own weak labels, photos '
                     'and test set: not with --cls-data, --cls-list, '
                     '--images or --test')
    if args.wsv_config is None:
        # the user's photos come in any size: the WSV U-Net trains on
        # random 256 px crops (the synthetic demo's images are 256 px)
        args.wsv_config = WSV_CROP_CONFIG if args.cls_data else WSV_CONFIG
    return args


def weak_label_options(cls_data, cls_list):
    """--cfg-options pointing a folder / image-list classifier config at the
    user's weak labels (absolute paths). A ``train`` sub-folder is the
    training split (and ``val`` the validation); otherwise a 10 % hash
    hold-out of the files validates."""
    cls_data = osp.abspath(cls_data)
    opts = []
    if cls_list:
        for loader in ('train', 'val'):
            opts += [f'{loader}_dataloader.dataset.data_prefix.img_path='
                     f'{cls_data}',
                     f'{loader}_dataloader.dataset.ann_file='
                     f'{osp.abspath(cls_list)}',
                     f'{loader}_dataloader.dataset.holdout=0.1',
                     f'{loader}_dataloader.dataset.subset={loader}']
        return opts
    if osp.isdir(osp.join(cls_data, 'train')) and \
            osp.isdir(osp.join(cls_data, 'val')):
        return [f'train_dataloader.dataset.data_prefix.img_path='
                f'{cls_data}/train',
                f'val_dataloader.dataset.data_prefix.img_path='
                f'{cls_data}/val']
    root = osp.join(cls_data, 'train') if osp.isdir(
        osp.join(cls_data, 'train')) else cls_data
    for loader in ('train', 'val'):
        opts += [f'{loader}_dataloader.dataset.data_prefix.img_path={root}',
                 f'{loader}_dataloader.dataset.holdout=0.1',
                 f'{loader}_dataloader.dataset.subset={loader}']
    return opts


#: classifier test on the masks of a scored test split (patch labels from
#: the test masks; scoring only)
TEST_ON_MASKS = ['test_dataloader.dataset.source=segmentation',
                 'test_dataloader.dataset.ann_file=',
                 'test_dataloader.dataset.data_prefix.img_path=images/test',
                 'test_dataloader.dataset.data_prefix.seg_map_path='
                 'masks/test']


def negatives_folder(cls_data, cls_list, out):
    """A folder of links to the images a list labels no_crack."""
    from mmcrack.datasets.patch_folders import read_image_list
    from mmcrack.utils.file_io import IMG_EXTENSIONS, list_stems
    entries, problems = read_image_list(cls_list)
    if problems:
        raise ValueError('; '.join(problems))
    files = list_stems(cls_data, IMG_EXTENSIONS)
    folder = osp.join(out, 'known_negatives')
    negatives = [files[s] for s, label in entries if label == 0 and s in files]
    if not negatives:
        raise ValueError(f'--known-negatives: {cls_list} labels no image of '
                         f'{cls_data} no_crack')
    for path in negatives:
        ensure_symlink(path, osp.join(folder, osp.basename(path)))
    return folder


def main(argv=None):
    args = parse_args(argv)
    p = StageRunner(args.out, audit=('masks', ))
    out = p.out
    data = osp.abspath(args.data) if args.data else osp.join(out, 'data')
    smoke = args.smoke
    weak = bool(args.cls_data or args.classification)
    cls_config = args.cls_config or (
        CLS_CONFIG if not weak else
        CLS_LIST_CONFIG if args.cls_list else CLS_FOLDERS_CONFIG)
    cls_opts = (SMOKE_CLS if smoke else []) + list(args.cls_options)
    seg_opts = (SMOKE_SEG if smoke else []) + list(args.seg_options)
    wsv_opts = (SMOKE_WSV if smoke else []) + list(args.wsv_options)
    device = args.device

    def train(config, work_dir, options):
        return train_command(config, work_dir, data, device, options,
                             args.launcher, args.nproc)

    # data
    has_test = True
    if args.cls_data:  # the user's weak labels, photos and test set
        ensure_symlink(args.images, osp.join(data, 'images', 'train'))
        has_test = bool(args.test)
        if has_test:
            for sub in ('images/test', 'masks/test'):
                ensure_symlink(osp.join(args.test, sub), osp.join(data, sub))
        cls_data, cls_list = args.cls_data, args.cls_list
    elif not args.data:
        p.run('data', [python_command(
            'tools/dataset_converters/make_synthetic.py', data, '--seed',
            args.seed, *(SMOKE_DATA if smoke else []),
            *(['--classification'] if weak else []))],
            lambda: osp.isdir(osp.join(data, 'images', 'test')))
        cls_data = osp.join(data, 'classification')
        cls_list = None
    for sub in ('images/train', 'images/test', 'masks/test'):
        if (has_test or sub == 'images/train') and \
                not osp.isdir(osp.join(data, sub)):
            raise FileNotFoundError(f'data root {data}: no {sub} folder')
    if weak:
        cls_opts = weak_label_options(cls_data, cls_list) + cls_opts
        if args.known_negatives:
            if cls_list is None:  # the synthetic set's image list
                cls_data = osp.join(data, 'classification', 'train',
                                    'images')
                cls_list = osp.join(data, 'classification', 'train',
                                    'labels.txt')
            wsv_opts.append('negative_img_dirs=['
                            f'{negatives_folder(cls_data, cls_list, out)}]')

    # classifier
    cls_dir = osp.join(out, 'classifier')
    p.run('classifier', [train(cls_config, cls_dir, cls_opts)],
          lambda: find_checkpoint(cls_dir) is not None)
    cls_ckpt = find_checkpoint(cls_dir)
    cls_test = osp.join(out, 'classifier_test')
    if has_test:
        p.run('classifier_test', [test_command(
            cls_config, cls_ckpt, cls_test, data, device,
            cls_opts + (TEST_ON_MASKS if weak else []))],
            lambda: read_test_metrics(cls_test) is not None,
            key=file_key(cls_ckpt))

    # weakly-supervised segmentation (the hook makes the pseudo-labels)
    wsv_dir = osp.join(out, 'wsv')
    classifier = [f'classifier_config={cls_config}',
                  f'classifier_checkpoint={cls_ckpt}']
    p.run('wsv', [train(args.wsv_config, wsv_dir,
                        seg_opts + wsv_opts + classifier)],
          lambda: find_checkpoint(wsv_dir) is not None,
          key=file_key(cls_ckpt))
    with open(osp.join(wsv_dir, 'pseudo_labels', 'manifest.json')) as f:
        manifest = json.load(f)
    label_dir = osp.join(manifest['label_dir'], 'train')

    # pseudo-label quality against the training ground truth (scored
    # afterwards; the wsv stage never read these masks)
    labels_eval = osp.join(out, 'labels_eval')
    if osp.isdir(osp.join(data, 'masks', 'train')):
        p.run('labels', [python_command(
            'tools/analysis_tools/eval_crack.py', label_dir,
            osp.join(data, 'masks', 'train'), '--out', labels_eval,
            '--labels', 'pseudo-labels', '--images',
            osp.join(data, 'images', 'train'))],
            lambda: osp.isfile(osp.join(labels_eval, 'metrics.json')),
            key=dict(labels=manifest['key']))

    # test: metric through the runner, maps through the inferencer
    methods = []
    for name, config, work, which, enabled in (
            ('wsv', args.wsv_config, wsv_dir, 'last', has_test),
            ('fsv', args.fsv_config, osp.join(out, 'fsv'), 'best',
             args.fsv)):
        if not enabled:
            continue
        if name == 'fsv':
            p.run('fsv', [train(config, work, seg_opts)],
                  lambda: find_checkpoint(work) is not None)
        ckpt = find_checkpoint(work, which)
        test_dir = osp.join(out, f'{name}_test')
        maps = osp.join(out, f'{name}_maps')
        p.run(f'{name}_test', [
            test_command(config, ckpt, test_dir, data, device, seg_opts),
            python_command('tools/infer.py', config, ckpt,
                           osp.join(data, 'images', 'test'), '--out', maps,
                           *(['--device', device] if device != 'auto'
                             else []))
        ], lambda: read_test_metrics(test_dir) is not None and osp.isdir(
            osp.join(maps, 'prob')), key=file_key(ckpt))
        methods.append((name.upper(), osp.join(maps, 'prob')))

    report_eval = None
    if has_test:
        baselines = osp.join(out, 'baselines')
        p.run('baselines', [python_command(
            'tools/analysis_tools/baseline_maps.py',
            osp.join(data, 'images', 'test'), baselines)],
            lambda: osp.isdir(osp.join(baselines, 'otsu')))
        methods += [(name, osp.join(baselines, sub))
                    for name, sub in BASELINES.items()]
        report_eval = osp.join(out, 'report_eval')
        upstream = {k: v for k, v in p.state.items() if k != 'report'}
        p.run('report', [python_command(
            'tools/analysis_tools/eval_crack.py', methods[0][1],
            osp.join(data, 'masks', 'test'), '--compare',
            *[m[1] for m in methods[1:]], '--labels',
            *[m[0] for m in methods], '--out', report_eval, '--title',
            'test split', '--images', osp.join(data, 'images', 'test'))],
            lambda: osp.isfile(osp.join(report_eval, 'metrics.json')),
            key=upstream)
    return write_report(p, data, manifest, labels_eval, report_eval, methods,
                        weak)


#: what each stage is for, in the report's ground-truth table
STAGE_ROLES = dict(
    data='writes the synthetic set', classifier='training',
    classifier_test='scoring (test masks)', wsv='training',
    labels='scoring (training masks)', wsv_test='scoring (test masks)',
    fsv='training on masks (the fully-supervised twin)',
    fsv_test='scoring (test masks)', baselines='floors (no mask)',
    report='scoring (test masks)')


def ground_truth_lines(p, weak):
    """The report's table of the mask files each stage opened or listed
    (Python-level audit)."""
    lines = ['## Ground truth read by each stage', '',
             'Paths under a `masks` folder that a stage\'s Python code '
             'opened or listed (audit hook; files opened inside OpenCV are '
             'not seen, so a training stage that reads masks at all also '
             'lists their folder).', '']
    rows = []
    for stage in p.state:
        paths = p.audit_paths(stage)
        role = STAGE_ROLES.get(stage, '')
        if stage == 'classifier' and not weak:
            role = 'training: patch labels from masks/train (one bit ' \
                'per 128 px window)'
        rows.append([stage, role, '-' if paths is None else
                     f'{len(paths)}' + (f' (e.g. `{paths[0]}`)'
                                        if paths else '')])
    lines += markdown_table(['stage', 'role', 'mask paths accessed'], rows)
    training = [s for s in ('classifier', 'wsv') if s in p.state]
    clean = [s for s in training if p.audit_paths(s) == []]
    verdict = ('No mask file was opened or listed by ' +
               ' or '.join(f'`{s}`' for s in clean) +
               ' (training and model selection).') if clean else ''
    return lines + ['', verdict] if verdict else lines


def write_report(p, data, manifest, labels_eval, report_eval, methods,
                 weak=False):
    out = p.out
    cls = read_test_metrics(osp.join(out, 'classifier_test')) or {}
    compare = {}
    if report_eval is not None:
        with open(osp.join(report_eval, 'metrics.json')) as f:
            compare = json.load(f)['methods']
    labels = None
    if osp.isfile(osp.join(labels_eval, 'metrics.json')):
        with open(osp.join(labels_eval, 'metrics.json')) as f:
            labels = list(json.load(f)['methods'].values())[0]
    seg_runner = {}
    for name in ('wsv', 'fsv'):
        m = read_test_metrics(osp.join(out, f'{name}_test'))
        if m:
            seg_runner[name.upper()] = {
                k: v for k, v in m.items() if k in ('ODS', 'OIS', 'AP',
                                                    'ODS_thr')}
    times = p.seconds()
    times['pseudo_labels (inside wsv)'] = manifest.get('generation_seconds')
    report = dict(
        data=data,
        classifier={k: cls.get(k) for k in ('precision', 'recall', 'f1')},
        pseudo_labels=None if labels is None else {
            k: labels[k] for k in ('ODS', 'OIS', 'AP')},
        pseudo_label_counts={k: manifest.get(k) for k in ('images', 'kept',
                                                           'dropped')},
        test={name: {k: compare[name][k] for k in ('ODS', 'OIS', 'AP',
                                                   'ODS_thr')}
              for name, _ in methods},
        test_runner_metrics=seg_runner,
        seconds=times,
        commands=p.commands(),
        weak_labels=weak,
        mask_paths_accessed={k: p.audit_paths(k) for k in p.state},
        pr_curve=None if report_eval is None else osp.join(
            report_eval, 'pr_curve.png'),
        html_report=None if report_eval is None else osp.join(
            report_eval, 'index.html'),
        overlays=osp.join(out, 'wsv_maps', 'overlay'))
    atomic_write_json(osp.join(out, 'report.json'), report)
    lines = ['# mmcrack pipeline report', '', f'Data: `{data}`' + (
        ' (weak labels: class folders / image list, no training mask)'
        if weak else ''), '']
    if cls:
        lines += ['## Classifier (test patches, crack class)', '']
        lines += markdown_table(['precision', 'recall', 'F1'], [[
            report['classifier'][k] for k in ('precision', 'recall',
                                              'f1')]])
    if labels is not None:
        lines += ['', '## Pseudo-labels vs training ground truth (labels '
                  'only)', '']
        lines += markdown_table(
            ['ODS', 'OIS', 'AP', 'kept / images'],
            [[report['pseudo_labels'][k] for k in ('ODS', 'OIS', 'AP')] +
             [f'{manifest.get("kept")} / {manifest.get("images")}']])
    if methods:
        lines += ['', '## Test split (8-bit probability maps)', '']
        lines += markdown_table(
            ['method', 'ODS', 'OIS', 'AP', 'ODS threshold'],
            [[name] + [report['test'][name][k]
                       for k in ('ODS', 'OIS', 'AP', 'ODS_thr')]
             for name, _ in methods])
        lines += ['', 'WSV: weakly supervised (pseudo-labels only; no mask '
                  'read, last checkpoint). FSV: fully supervised (masks; '
                  'best checkpoint on the validation masks).', '',
                  f'Report to look at: `{report["html_report"]}` (one row '
                  f'per image, worst first); PR curves: '
                  f'`{report["pr_curve"]}`; overlays: '
                  f'`{report["overlays"]}`']
    else:
        lines += ['', 'No test set with masks was given: nothing scored. '
                  f'WSV checkpoint: `{find_checkpoint(osp.join(out, "wsv"))}'
                  '`.']
    lines += [''] + ground_truth_lines(p, weak)
    lines += ['', '## Time per stage (s)', '']
    lines += markdown_table(['stage', 'seconds'], list(times.items()),
                            digits=1)
    lines += ['', '## Commands (rerun any stage by hand)', '']
    for stage, cmds in report['commands'].items():
        lines += [f'* {stage}:'] + [f'  `{c}`' for c in cmds]
    text = '\n'.join(lines) + '\n'
    atomic_write_bytes(osp.join(out, 'report.md'), text.encode())
    print('\n' + text)
    return report


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, FileExistsError, ValueError) as e:
        sys.exit(f'run_pipeline: error: {e}')
