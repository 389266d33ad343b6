"""benchmarks/weak_label_tables.py: the reference options and the target
check (the runs themselves are hours of benchmark, not tests)."""
import json
import os.path as osp
import sys

import pytest
from conftest import REPO

sys.path.insert(0, osp.join(REPO, 'benchmarks'))
import weak_label_tables  # noqa: E402


def test_weak_label_tables_reads_the_reference_and_checks_the_target(
        tmp_path):
    """weak_label_tables.py takes the reference run's options from its
    state and reports the folder run against it."""
    state = dict(pipeline=dict(commands=[
        'python tools/run_pipeline.py --data D --out O --fsv --cls-config C '
        '--wsv-config W.py --fsv-config F.py --cls-options '
        'train_cfg.max_epochs=4 a=b --seg-options train_cfg.max_iters=1500 '
        "'param_scheduler.0.milestones=[1125]'"]))
    (tmp_path / 'pipeline_state.json').write_text(json.dumps(state))
    ref = weak_label_tables.reference_command(str(tmp_path))
    assert ref == {'--wsv-config': ['W.py'],
                   '--cls-options': ['train_cfg.max_epochs=4', 'a=b'],
                   '--seg-options': ['train_cfg.max_iters=1500',
                                     'param_scheduler.0.milestones=[1125]']}

    def report(f1, ods, kept=300):
        m = dict(ODS=ods, OIS=ods, AP=ods)
        return dict(classifier=dict(precision=f1, recall=f1, f1=f1),
                    test=dict(WSV=m, darkness=dict(ODS=0.6, OIS=0.7,
                                                   AP=0.7)),
                    pseudo_label_counts=dict(kept=kept, images=371),
                    mask_paths_accessed=dict(classifier=[], wsv=[]))
    args = weak_label_tables.parse_args([
        '--results', str(tmp_path / 'R.md'), '--paper-out', 'P',
        '--cls-epochs', '1', '--seg-iters', '500'])
    runner = type('Runner', (), {'seconds': lambda self: {'a': 60}})()
    weak_label_tables.write(args, report(0.95, 0.78), {
        'class folders': report(0.955, 0.775),
        '256 px tile labels': report(0.90, 0.70)}, 60, runner)
    text = (tmp_path / 'R.md').read_text()
    assert '`benchmarks/paper_tables.py --out P` run (patch labels derived ' \
           'from the masks) at the same schedule: classifier 1 epoch(s) ' \
           '(random dihedral pose), WSV `configs/wsv/' in text
    assert ' 500 iterations;' in text
    assert 'class folders: patch F1 +0.005, WSV ODS -0.005 against the ' \
           'reference (target within ±0.01: met).' in text
    assert '256 px tile labels: patch F1 -0.050, WSV ODS -0.080 (90 % of ' \
           'the reference WSV ODS).' in text
    assert '| class folders | 0.955 / 0.955 / 0.955 | 0.775 / 0.775 / ' \
           '0.775 | 300 / 371 | 0 / 0 |' in text


def test_the_runs_options_match_the_reference_command_of_the_same_schedule(
        tmp_path):
    """The options weak_label_tables passes equal those paper_tables' command
    records for the same schedule arguments, and a different schedule is
    refused by name before the table is written."""
    import paper_tables

    from mmcrack.apis.pipeline import _command_text
    schedule = ['--cls-epochs', '1', '--seg-iters', '500']
    command = paper_tables.pipeline_command(
        paper_tables.parse_args(schedule), 'D', 'O')
    state = dict(pipeline=dict(commands=[_command_text(command)]))
    (tmp_path / 'pipeline_state.json').write_text(json.dumps(state))
    ref = weak_label_tables.reference_command(str(tmp_path))
    assert ref['--seg-options'] == [
        'train_cfg.max_iters=500', 'param_scheduler.0.milestones=[375]',
        'train_cfg.val_interval=250', 'default_hooks.checkpoint.interval=250']

    def options(argv):
        args = weak_label_tables.parse_args(argv)
        return dict(weak_label_tables.schedule_pipeline_options(args),
                    **{'--wsv-config': [args.wsv_config]})
    weak_label_tables.same_options(options(schedule), ref, 'P')
    with pytest.raises(SystemExit, match=r'P: .*--cls-options: '
                       r"\['train_cfg.max_epochs=4'.* vs "
                       r"\['train_cfg.max_epochs=1'"):
        weak_label_tables.same_options(options(['--seg-iters', '500']), ref,
                                       'P')


def test_runs_flag_picks_the_runs_and_defaults_to_all():
    assert list(weak_label_tables.parse_args([]).runs) == [
        'folders', 'tiles', 'negatives']
    assert weak_label_tables.parse_args(['--runs', 'tiles']).runs == [
        'tiles']
    with pytest.raises(SystemExit):
        weak_label_tables.parse_args(['--runs', 'masks'])
