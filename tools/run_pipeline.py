"""The main job: patch labels -> classifier -> pseudo-labels -> weakly-
supervised segmentation -> evaluated crack maps, in one command.

    python tools/run_pipeline.py                      # synthetic set, CPU
    python tools/run_pipeline.py --data ../shared/datasets/CFD --fsv
    python tools/run_pipeline.py --launcher pytorch --nproc 2

Stages (each an ordinary config + tools/*.py call, printed and recorded in
the report so it can be rerun by hand; a finished stage is reused):

  data        tools/dataset_converters/make_synthetic.py (without --data)
  classifier  tools/train.py CLS_CONFIG, then tools/test.py (patch P/R/F1)
  wsv         tools/train.py WSV_CONFIG: PseudoLabelHook labels the training
              images with the classifier, the model trains on them
  labels      tools/analysis_tools/eval_crack.py: pseudo-labels vs the
              training ground truth (labels-only ODS/OIS/AP)
  wsv_test    tools/test.py + tools/infer.py on the test split
  fsv         (--fsv) the fully-supervised twin, trained on ground truth
  baselines   tools/analysis_tools/baseline_maps.py (darkness, global Otsu)
  report      tools/analysis_tools/eval_crack.py --compare: PR curves;
              OUT/report.md + OUT/report.json

The data root must have images/{train,test} and masks/{train,test} (masks of
train are used only to judge the pseudo-labels; with --fsv to train the
fully-supervised twin).
"""
import argparse
import glob
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CLS_CONFIG = 'configs/classifier/resnet18-w32_1xb16-4e_crack-patch.py'
WSV_CONFIG = 'configs/wsv/unet-s5-d16_fcn_1xb4-400i_synthetic-256x256_wsv.py'
FSV_CONFIG = 'configs/unet/unet-s5-d16_fcn_1xb4-400i_synthetic-256x256.py'

# --smoke: seconds per stage (tests); not for results
SMOKE_DATA = ['--train', '6', '--val', '2', '--test', '3', '--size', '64',
              '64']
SMOKE_CLS = [
    'train_cfg.max_epochs=1', 'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
    'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False',
    'train_dataloader.dataset.patch_size=32',
    'train_dataloader.dataset.stride=32',
    'val_dataloader.dataset.patch_size=32', 'val_dataloader.dataset.stride=32',
    'test_dataloader.dataset.patch_size=32',
    'test_dataloader.dataset.stride=32'
]
SMOKE_SEG = [
    'train_cfg.max_iters=4', 'train_cfg.val_interval=4',
    'default_hooks.checkpoint.interval=4', 'train_dataloader.batch_size=2',
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
    'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False',
    'custom_hooks.0.min_crack_pixels=1'
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data', help='dataset root (default: generate the '
                        'synthetic set into OUT/data)')
    parser.add_argument('--out', default='work_dirs/pipeline')
    parser.add_argument('--cls-config', default=CLS_CONFIG)
    parser.add_argument('--wsv-config', default=WSV_CONFIG)
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
    parser.add_argument('--seed', type=int, default=0)
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
    return parser.parse_args(argv)


class Pipeline:
    """Runs stages as subprocesses, records commands and times, resumes."""

    def __init__(self, args):
        self.args = args
        self.out = osp.abspath(args.out)
        os.makedirs(self.out, exist_ok=True)
        self.state_path = osp.join(self.out, 'pipeline_state.json')
        self.state = {}
        if osp.isfile(self.state_path):
            with open(self.state_path) as f:
                self.state = json.load(f)
        self.data = osp.abspath(args.data) if args.data else osp.join(
            self.out, 'data')

    def _save(self):
        from mmcrack.utils.file_io import atomic_write_json
        atomic_write_json(self.state_path, self.state)

    def run(self, stage: str, commands, done) -> bool:
        """Run ``commands`` (lists of args) unless ``done()`` is already
        true for a stage recorded as finished. Returns True if it ran."""
        record = self.state.get(stage)
        if record and record.get('finished') and done():
            print(f'[pipeline] {stage}: reused ({record["seconds"]:.1f} s '
                  'when it ran)')
            return False
        start = time.time()
        printed = []
        for cmd in commands:
            text = ' '.join(shlex.quote(c) for c in cmd)
            printed.append(text)
            print(f'[pipeline] {stage}: {text}', flush=True)
            env = dict(os.environ)
            env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
            env.setdefault('PYTHON', sys.executable)
            log_path = osp.join(self.out, 'logs', f'{stage}.log')
            os.makedirs(osp.dirname(log_path), exist_ok=True)
            with open(log_path, 'a') as log:
                proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=log,
                                      stderr=subprocess.STDOUT)
            if proc.returncode != 0:
                with open(log_path) as log:
                    tail = log.read()[-4000:]
                raise RuntimeError(
                    f'stage {stage} failed (exit {proc.returncode}): {text}\n'
                    f'--- last lines of {log_path} ---\n{tail}')
        if not done():
            raise RuntimeError(f'stage {stage} ran but its outputs are '
                               'missing')
        self.state[stage] = dict(seconds=round(time.time() - start, 2),
                                 commands=printed, finished=True)
        self._save()
        return True

    # -- helpers -------------------------------------------------------------
    def py(self, script, *args):
        return [sys.executable, script, *args]

    def train(self, config, work_dir, options):
        common = ['--work-dir', work_dir, '--data-root', self.data]
        if self.args.device != 'auto':
            common += ['--device', self.args.device]
        if options:
            common += ['--cfg-options', *options]
        if self.args.launcher == 'pytorch':
            return [osp.join('tools', 'dist_train.sh'), config,
                    str(self.args.nproc), *common]
        return self.py('tools/train.py', config, *common)

    def test(self, config, ckpt, work_dir, options):
        cmd = self.py('tools/test.py', config, ckpt, '--work-dir', work_dir,
                      '--data-root', self.data)
        if self.args.device != 'auto':
            cmd += ['--device', self.args.device]
        return cmd + (['--cfg-options', *options] if options else [])


def last_checkpoint(work_dir):
    """The checkpoint a finished run left (best ODS if saved, else last)."""
    best = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')))
    if best:
        return best[-1]
    marker = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(marker):
        with open(marker) as f:
            path = f.read().strip()
        if osp.isfile(path):
            return path
    return None


def test_metrics(work_dir):
    """Metrics of the newest ``tools/test.py`` run in ``work_dir``."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.json')))
    if not logs:
        return None
    with open(logs[-1]) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    return lines[-1] if lines else None


def main(argv=None):
    args = parse_args(argv)
    p = Pipeline(args)
    out, data = p.out, p.data
    smoke = args.smoke
    cls_opts = (SMOKE_CLS if smoke else []) + list(args.cls_options)
    seg_opts = (SMOKE_SEG if smoke else []) + list(args.seg_options)

    # data
    if not args.data:
        p.run('data', [p.py('tools/dataset_converters/make_synthetic.py',
                            data, '--seed', str(args.seed),
                            *(SMOKE_DATA if smoke else []))],
              lambda: osp.isdir(osp.join(data, 'images', 'test')))
    for sub in ('images/train', 'images/test', 'masks/test'):
        if not osp.isdir(osp.join(data, sub)):
            raise FileNotFoundError(f'--data {data}: no {sub} folder')

    # classifier
    cls_dir = osp.join(out, 'classifier')
    p.run('classifier', [p.train(args.cls_config, cls_dir, cls_opts)],
          lambda: last_checkpoint(cls_dir) is not None)
    cls_ckpt = last_checkpoint(cls_dir)
    cls_test = osp.join(out, 'classifier_test')
    p.run('classifier_test',
          [p.test(args.cls_config, cls_ckpt, cls_test, cls_opts)],
          lambda: test_metrics(cls_test) is not None)

    # weakly-supervised segmentation (the hook makes the pseudo-labels)
    wsv_dir = osp.join(out, 'wsv')
    hook_opts = [f'custom_hooks.0.classifier_config={args.cls_config}',
                 f'custom_hooks.0.classifier_checkpoint={cls_ckpt}']
    p.run('wsv', [p.train(args.wsv_config, wsv_dir, seg_opts + hook_opts)],
          lambda: last_checkpoint(wsv_dir) is not None)
    with open(osp.join(wsv_dir, 'pseudo_labels', 'manifest.json')) as f:
        manifest = json.load(f)
    label_dir = osp.join(manifest['label_dir'], 'train')

    # pseudo-label quality against the training ground truth
    labels_eval = osp.join(out, 'labels_eval')
    if osp.isdir(osp.join(data, 'masks', 'train')):
        p.run('labels', [p.py('tools/analysis_tools/eval_crack.py', label_dir,
                              osp.join(data, 'masks', 'train'), '--out',
                              labels_eval, '--labels', 'pseudo-labels')],
              lambda: osp.isfile(osp.join(labels_eval, 'metrics.json')))

    # test: metric through the runner, maps through the inferencer
    methods = []
    seg_test_opts = [o for o in seg_opts if not o.startswith('custom_hooks')]
    for name, config, work, enabled in (
            ('wsv', args.wsv_config, wsv_dir, True),
            ('fsv', args.fsv_config, osp.join(out, 'fsv'), args.fsv)):
        if not enabled:
            continue
        if name == 'fsv':
            p.run('fsv', [p.train(config, work, seg_test_opts)],
                  lambda: last_checkpoint(work) is not None)
        ckpt = last_checkpoint(work)
        test_dir, maps = osp.join(out, f'{name}_test'), osp.join(
            out, f'{name}_maps')
        test_cfg_opts = seg_test_opts + (
            ['custom_hooks=[]'] if name == 'wsv' else [])
        p.run(f'{name}_test', [
            p.test(config, ckpt, test_dir, test_cfg_opts),
            p.py('tools/infer.py', config, ckpt,
                 osp.join(data, 'images', 'test'), '--out', maps,
                 *(['--device', args.device]
                   if args.device != 'auto' else []))
        ], lambda: test_metrics(test_dir) is not None and osp.isdir(
            osp.join(maps, 'prob')))
        methods.append((name.upper(), osp.join(maps, 'prob')))

    baselines = osp.join(out, 'baselines')
    p.run('baselines', [p.py('tools/analysis_tools/baseline_maps.py',
                             osp.join(data, 'images', 'test'), baselines)],
          lambda: osp.isdir(osp.join(baselines, 'otsu')))
    methods += [('darkness', osp.join(baselines, 'darkness')),
                ('global Otsu', osp.join(baselines, 'otsu'))]

    report_eval = osp.join(out, 'report_eval')
    p.state.pop('report', None)  # always recompute the comparison
    p.run('report', [
        p.py('tools/analysis_tools/eval_crack.py', methods[0][1],
             osp.join(data, 'masks', 'test'), '--compare',
             *[m[1] for m in methods[1:]], '--labels',
             *[m[0] for m in methods], '--out', report_eval, '--title',
             'test split')
    ], lambda: osp.isfile(osp.join(report_eval, 'metrics.json')))
    write_report(p, manifest, labels_eval, report_eval, methods)


def _fmt(v):
    return f'{v:.4f}' if isinstance(v, float) else str(v)


def write_report(p, manifest, labels_eval, report_eval, methods):
    from mmcrack.utils.file_io import atomic_write_bytes, atomic_write_json
    out = p.out
    cls = test_metrics(osp.join(out, 'classifier_test')) or {}
    cls = {k.split('/')[-1]: v for k, v in cls.items()}
    with open(osp.join(report_eval, 'metrics.json')) as f:
        compare = json.load(f)['methods']
    labels = None
    if osp.isfile(osp.join(labels_eval, 'metrics.json')):
        with open(osp.join(labels_eval, 'metrics.json')) as f:
            labels = list(json.load(f)['methods'].values())[0]
    seg_runner = {}
    for name in ('wsv', 'fsv'):
        m = test_metrics(osp.join(out, f'{name}_test'))
        if m:
            seg_runner[name.upper()] = {
                k: v for k, v in m.items() if k in ('ODS', 'OIS', 'AP',
                                                    'ODS_thr')}
    times = {k: v['seconds'] for k, v in p.state.items()}
    times['pseudo_labels (inside wsv)'] = manifest.get('generation_seconds')
    report = dict(
        data=p.data,
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
        commands={k: v['commands'] for k, v in p.state.items()},
        pr_curve=osp.join(report_eval, 'pr_curve.png'),
        overlays=osp.join(out, 'wsv_maps', 'overlay'))
    atomic_write_json(osp.join(out, 'report.json'), report)
    lines = ['# mmcrack pipeline report', '', f'Data: `{p.data}`', '',
             '## Classifier (test patches, crack class)', '',
             '| precision | recall | F1 |', '|---|---|---|',
             '| ' + ' | '.join(_fmt(report['classifier'][k])
                              for k in ('precision', 'recall', 'f1')) + ' |',
             '']
    if labels is not None:
        lines += ['## Pseudo-labels vs training ground truth (labels only)',
                  '', '| ODS | OIS | AP | kept / images |',
                  '|---|---|---|---|',
                  '| ' + ' | '.join(_fmt(report['pseudo_labels'][k])
                                   for k in ('ODS', 'OIS', 'AP')) +
                  f' | {manifest.get("kept")} / {manifest.get("images")} |',
                  '']
    lines += ['## Test split (8-bit probability maps)', '',
              '| method | ODS | OIS | AP | ODS threshold |',
              '|---|---|---|---|---|']
    for name, _ in methods:
        r = report['test'][name]
        lines.append(f'| {name} | {_fmt(r["ODS"])} | {_fmt(r["OIS"])} | '
                     f'{_fmt(r["AP"])} | {_fmt(r["ODS_thr"])} |')
    lines += ['', f'PR curves: `{report["pr_curve"]}`; overlays: '
              f'`{report["overlays"]}`', '', '## Time per stage (s)', '',
              '| stage | seconds |', '|---|---|']
    lines += [f'| {k} | {v} |' for k, v in times.items()]
    lines += ['', '## Commands (rerun any stage by hand)', '']
    for stage, cmds in report['commands'].items():
        lines += [f'* {stage}:'] + [f'  `{c}`' for c in cmds]
    text = '\n'.join(lines) + '\n'
    atomic_write_bytes(osp.join(out, 'report.md'), text.encode())
    print('\n' + text)


if __name__ == '__main__':
    main()
