"""Stages and helpers shared by the benchmark protocols (paper_tables.py,
transfer_tables.py, comparison_tables.py, weak_label_tables.py): the CPU
training schedules, data roots made of symlinks, scoring a trained
classifier / WSV model on a test set, RESULTS.md sections.

Every stage is an ordinary ``tools/*.py`` call run by
:class:`mmcrack.apis.pipeline.StageRunner`, keyed on the checkpoints it
reads, so a rerun reuses what is done.
"""
import datetime
import glob
import json
import os
import os.path as osp
import platform
import re
import shlex
import sys

from mmcrack.apis.pipeline import (
    REPO,
    file_key,
    python_command,
    read_test_metrics,
    test_command,
)
from mmcrack.pseudo_label.presets import (
    keeps_localization_cache,
    load_preset_config,
)
from mmcrack.utils.file_io import IMG_EXTENSIONS, ensure_symlink, list_stems
from mmcrack.utils.sampling import random_subset

SHARED = osp.join(osp.dirname(REPO), 'shared', 'datasets')


#: --cls-dihedral -> CrackPatchDataset(dihedral_aug=...)
DIHEDRAL = {'off': 'False', 'random': 'random', 'x8': 'True'}

#: König et al., Table VI (combined protocol), ODS of the paper's labels
#: alone and of its WSV model (ImageNet-pretrained ResNet-50 classifier,
#: OED-B5 on a GPU): quoted beside paper_tables.py's and
#: comparison_tables.py's rows.
PAPER_TABLE_VI = {'labels only': 0.6954, 'WSV (OED-B5)': 0.7233}

#: The combined protocol's CPU-sized models (paper_tables.py).
WSV_CONFIG = 'configs/wsv/unet-s5-d16-w16_fcn_1xb4-1000i_crackmix-256x256_wsv.py'  # noqa: E501


def seg_schedule_options(iters, val_interval=None):
    """``--cfg-options`` of the iteration-based CPU segmentation schedule:
    ``iters`` iterations, the learning rate x0.1 at 3/4 of them, and a
    checkpoint (and validation) every ``val_interval`` iterations, or a
    checkpoint at the end only when it is None."""
    options = [f'train_cfg.max_iters={iters}',
               f'param_scheduler.0.milestones=[{iters * 3 // 4}]']
    if val_interval:
        return options + [f'train_cfg.val_interval={val_interval}',
                          f'default_hooks.checkpoint.interval={val_interval}']
    return options + [f'default_hooks.checkpoint.interval={iters}']


def add_schedule_arguments(parser):
    """The combined protocol's schedule options (paper_tables.py and the
    runs compared against it, which must use the same)."""
    parser.add_argument('--cls-epochs', type=int, default=4)
    parser.add_argument('--cls-dihedral', choices=sorted(DIHEDRAL),
                        default='random',
                        help='random: one random pose per window and fetch '
                        '(default); x8: the paper\'s x8 dihedral index (8x '
                        'the classifier time: ~20 min per epoch on 2 '
                        'cores); off: no dihedral augmentation')
    parser.add_argument('--seg-iters', type=int, default=1500,
                        help='iterations of the (iteration-based) seg '
                        'configs; 0 keeps the configs\' schedule, e.g. '
                        'the 30-epoch OED-B5 configs on a GPU')
    parser.add_argument('--wsv-config', default=WSV_CONFIG)


def schedule_pipeline_options(args):
    """``tools/run_pipeline.py`` options of the schedule arguments
    (:func:`add_schedule_arguments`): ``{'--cls-options': [...],
    '--seg-options': [...]}`` (no ``--seg-options`` with ``seg_iters=0``).
    """
    options = {'--cls-options': [
        f'train_cfg.max_epochs={args.cls_epochs}',
        'train_dataloader.dataset.dihedral_aug='
        f'{DIHEDRAL[args.cls_dihedral]}']}
    if args.seg_iters > 0:
        options['--seg-options'] = seg_schedule_options(
            args.seg_iters, args.seg_iters // 2)
    return options


def link_split(src_root, prefix, src_split, dst_root, dst_split,
               stems=None):
    """Symlink ``src_root/{images,masks}/src_split/*`` into ``dst_root``
    under ``prefix + name``.

    Args:
        stems: only these stems (default all).

    Returns:
        the number of images linked.
    """
    n = 0
    for kind in ('images', 'masks'):
        dst = osp.join(dst_root, kind, dst_split)
        os.makedirs(dst, exist_ok=True)
        for path in sorted(glob.glob(osp.join(src_root, kind, src_split,
                                              '*'))):
            if stems is not None and \
                    osp.splitext(osp.basename(path))[0] not in stems:
                continue
            ensure_symlink(path, osp.join(dst, prefix + osp.basename(path)))
            n += kind == 'images'
    if n == 0:
        raise FileNotFoundError(
            f'{src_root}/images/{src_split}: no images (expected the layout '
            'of ../shared/datasets/README.md)')
    return n


def split_stems(root, split):
    """Sorted image stems of ``root/images/split``."""
    return sorted(list_stems(osp.join(root, 'images', split),
                             IMG_EXTENSIONS))


def sample_stems(root, split, n, seed):
    """``n`` stems of a split drawn without replacement by ``seed``
    (sorted)."""
    stems = split_stems(root, split)
    if n > len(stems):
        raise ValueError(f'{root}/images/{split} has {len(stems)} images, '
                         f'{n} asked')
    return random_subset(stems, n, seed)


def metrics_of(eval_dir):
    """The first method's summary in an ``eval_crack.py --out`` folder."""
    with open(osp.join(eval_dir, 'metrics.json')) as f:
        return list(json.load(f)['methods'].values())[0]


def score_labels_only(runner, stage, cls_config, cls_ckpt, test_root, out,
                      device, preset='paper', split='test',
                      localization_cache=None):
    """Pseudo-labels of the test images (the generator as a segmenter),
    scored against the test masks. Returns the ODS / OIS / AP summary.
    ``localization_cache``: a folder shared by runs that label the same
    images with the same classifier (``--localization-cache``; not passed
    to a generator type that keeps none, such as the CRF labels)."""
    labels, evaluation = osp.join(out, 'labels'), osp.join(out, 'eval')
    generator = load_preset_config(preset)
    cache = [] if localization_cache is None or not keeps_localization_cache(
        generator) else ['--localization-cache', localization_cache]
    runner.run(stage, [
        python_command('tools/generate_pseudo_labels.py', cls_config,
                       cls_ckpt, osp.join(test_root, 'images', split),
                       labels, '--preset', preset, '--device', device,
                       '--overwrite', *cache),
        python_command('tools/analysis_tools/eval_crack.py', labels,
                       osp.join(test_root, 'masks', split), '--out',
                       evaluation, '--labels', f'labels only ({preset})')
    ], lambda: osp.isfile(osp.join(evaluation, 'metrics.json')),
        key=dict(classifier=file_key(cls_ckpt), config=cls_config,
                 preset=generator, test=osp.abspath(test_root)))
    return metrics_of(evaluation)


def score_model(runner, stage, config, ckpt, test_root, out, device,
                split='test'):
    """Crack maps of a segmentation checkpoint on the test images
    (``tools/infer.py``), scored against the test masks."""
    maps, evaluation = osp.join(out, 'maps'), osp.join(out, 'eval')
    runner.run(stage, [
        python_command('tools/infer.py', config, ckpt,
                       osp.join(test_root, 'images', split), '--out', maps,
                       *(['--device', device] if device != 'auto' else [])),
        python_command('tools/analysis_tools/eval_crack.py',
                       osp.join(maps, 'prob'),
                       osp.join(test_root, 'masks', split), '--out',
                       evaluation, '--labels', stage)
    ], lambda: osp.isfile(osp.join(evaluation, 'metrics.json')),
        key=dict(model=file_key(ckpt), config=config,
                 test=osp.abspath(test_root)))
    return metrics_of(evaluation)


def score_darkness(runner, stage, test_root, out, split='test'):
    """The darkness-map floor on a test set (docs/baselines.md)."""
    maps, evaluation = osp.join(out, 'maps'), osp.join(out, 'eval')
    runner.run(stage, [
        python_command('tools/analysis_tools/baseline_maps.py',
                       osp.join(test_root, 'images', split), maps),
        python_command('tools/analysis_tools/eval_crack.py',
                       osp.join(maps, 'darkness'),
                       osp.join(test_root, 'masks', split), '--out',
                       evaluation, '--labels', 'darkness')
    ], lambda: osp.isfile(osp.join(evaluation, 'metrics.json')),
        key=dict(test=osp.abspath(test_root)))
    return metrics_of(evaluation)


def score_classifier(runner, stage, cls_config, cls_ckpt, test_root, out,
                     device, options=()):
    """Patch P / R / F1 of a classifier on another data root's test split
    (``tools/test.py``)."""
    runner.run(stage, [
        test_command(cls_config, cls_ckpt, out, test_root, device,
                     ['test_dataloader.num_workers=0',
                      'test_dataloader.persistent_workers=False',
                      *options])
    ], lambda: read_test_metrics(out) is not None,
        key=dict(classifier=file_key(cls_ckpt), config=cls_config,
                 test=osp.abspath(test_root)))
    m = read_test_metrics(out)
    return {k: m[k] for k in ('precision', 'recall', 'f1')}


def add_protocol_arguments(parser, out_name):
    """The options every protocol script takes: the two datasets, the work
    folder ``work_dirs/<out_name>``, the results file and the device."""
    parser.add_argument('--deepcrack', default=osp.join(SHARED, 'DeepCrack'))
    parser.add_argument('--cfd', default=osp.join(SHARED, 'CFD'))
    parser.add_argument('--out', default=osp.join('work_dirs', out_name))
    parser.add_argument('--results',
                        default=osp.join(REPO, 'benchmarks', 'RESULTS.md'))
    parser.add_argument('--device', default='cpu')


def prf_cell(m):
    """``P / R / F1`` of a classifier summary, 3 decimals."""
    return f'{m["precision"]:.3f} / {m["recall"]:.3f} / {m["f1"]:.3f}'


def machine_line(device):
    """Machine, device and thread settings, for a results header."""
    cpu = platform.processor() or platform.machine()
    return (f'{platform.system()} {cpu}, {os.cpu_count()} cores, device '
            f'`{device}`, OMP_NUM_THREADS='
            f'{os.environ.get("OMP_NUM_THREADS", "unset")}')


def invocation(script, argv=None):
    """The command line that ran a benchmark script, for its results
    header: ``python benchmarks/SCRIPT ARGS``, the arguments shell-quoted
    (``argv``: the arguments; default ``sys.argv[1:]``)."""
    args = sys.argv[1:] if argv is None else argv
    return f'python benchmarks/{script} ' + ' '.join(
        shlex.quote(a) for a in args)


def stage_minutes(seconds):
    """Sum of the stage times ``{stage: seconds}`` in minutes; entries
    measured inside another stage (their name says 'inside') are not
    counted twice."""
    return sum(v for k, v in seconds.items() if 'inside' not in k) / 60


def utc_now():
    return f'{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}'


def replace_section(path, name, lines):
    """Write ``lines`` as section ``name`` of a markdown file: between
    ``<!-- section: name -->`` and ``<!-- end: name -->`` (replaced when
    there, appended otherwise); the rest of the file is kept."""
    from mmcrack.utils.file_io import atomic_write_bytes
    begin, end = f'<!-- section: {name} -->', f'<!-- end: {name} -->'
    block = '\n'.join([begin, *lines, end])
    text = open(path).read() if osp.isfile(path) else ''
    pattern = re.compile(re.escape(begin) + r'.*?' + re.escape(end),
                         re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = (text.rstrip('\n') + '\n\n' if text else '') + block + '\n'
    atomic_write_bytes(path, text.encode())
