"""benchmarks/paper_tables.py: the combined data root and the target check
(the run itself is a ~1 h benchmark, not a test)."""
import argparse
import os
import os.path as osp
import sys

import pytest
from conftest import REPO, write_fake_split_set

sys.path.insert(0, osp.join(REPO, 'benchmarks'))
import paper_tables  # noqa: E402


def test_build_mix_prefixes_stems_and_follows_the_protocol(tmp_path):
    dc, cfd = str(tmp_path / 'dc'), str(tmp_path / 'cfd')
    # the same stem in both sets must not collide
    write_fake_split_set(dc, dict(train=['001', '002'], test=['003']))
    write_fake_split_set(cfd, dict(train=['001'], val=['009'],
                                   test=['073', '074']))
    args = argparse.Namespace(deepcrack=dc, cfd=cfd)
    root = str(tmp_path / 'mix')
    counts = paper_tables.build_mix(args, root)
    assert counts == dict(train=4, val=1, test=3)
    assert sorted(os.listdir(osp.join(root, 'images', 'train'))) == [
        'cfd_001.jpg', 'cfd_009.jpg', 'dc_001.jpg', 'dc_002.jpg']
    assert sorted(os.listdir(osp.join(root, 'masks', 'test'))) == [
        'cfd_073.png', 'cfd_074.png', 'dc_003.png']
    with open(osp.join(root, 'masks', 'train', 'cfd_009.png')) as f:
        assert f.read() == 'masks009'  # links to the right file
    # idempotent (a rerun of the benchmark resumes)
    assert paper_tables.build_mix(args, root) == counts


def test_build_mix_names_a_missing_split(tmp_path):
    dc, cfd = str(tmp_path / 'dc'), str(tmp_path / 'cfd')
    write_fake_split_set(dc, dict(train=['1'], test=['2']))
    write_fake_split_set(cfd, dict(train=['1'], test=['2']))  # no val split
    args = argparse.Namespace(deepcrack=dc, cfd=cfd)
    with pytest.raises(FileNotFoundError, match=r'cfd/images/val'):
        paper_tables.build_mix(args, str(tmp_path / 'mix'))


def test_assessment_reports_goals_and_margins():
    test = dict(WSV=dict(ODS=0.73, OIS=0.8, AP=0.8),
                FSV=dict(ODS=0.80, OIS=0.85, AP=0.9),
                darkness=dict(ODS=0.60, OIS=0.7, AP=0.7))
    text = paper_tables._assessment(test, dict(ODS=0.75))
    assert 'labels-only ODS (test images) 0.750 (target ≥ 0.72: met)' in text
    assert 'WSV ODS 0.730 (target ≥ 0.80: not met)' in text
    assert 'FSV minus WSV ODS 0.070 (target ≤ 0.02: not met)' in text
    assert '+0.130 ODS, +0.100 OIS, +0.100 AP' in text
    assert 'closes 65 % of the ODS gap' in text


@pytest.mark.parametrize('choice,expected', [('off', False),
                                             ('random', 'random'),
                                             ('x8', True)])
def test_cls_dihedral_choice_reaches_the_dataset_as_a_valid_value(
        choice, expected):
    """--cls-dihedral becomes a --cfg-options string that mmengine parses
    into a value CrackPatchDataset accepts."""
    from mmengine.config import DictAction
    assert paper_tables.parse_args([]).cls_dihedral == 'random'
    args = paper_tables.parse_args(['--cls-dihedral', choice])
    parser = argparse.ArgumentParser()
    parser.add_argument('--opts', nargs='+', action=DictAction)
    opt = ('train_dataloader.dataset.dihedral_aug='
           f'{paper_tables.DIHEDRAL[args.cls_dihedral]}')
    value = parser.parse_args(['--opts', opt]).opts[
        'train_dataloader.dataset.dihedral_aug']
    assert value == expected and type(value) is type(expected)


def test_per_set_metrics_equal_each_set_scored_alone(tmp_path):
    """The breakdown restricts the stems by prefix: each set's numbers equal
    evaluate_folder on a folder that holds only that set."""
    import cv2
    import numpy as np

    from mmcrack.evaluation.folder_eval import evaluate_folder
    rng = np.random.default_rng(0)
    pred, gt = tmp_path / 'pred', tmp_path / 'gt'
    alone = {p: (tmp_path / p / 'pred', tmp_path / p / 'gt')
             for p in ('dc_', 'cfd_')}
    for d in [pred, gt] + [x for v in alone.values() for x in v]:
        d.mkdir(parents=True)
    for prefix, n in (('dc_', 3), ('cfd_', 2)):
        for i in range(n):
            m = np.zeros((20, 30), np.uint8)
            m[rng.integers(0, 20), :] = 255
            p = np.clip(m * 0.6 + rng.integers(0, 120, m.shape), 0,
                        255).astype(np.uint8)
            stem = f'{prefix}{i:03d}.png'
            for d_pred, d_gt in ((pred, gt), alone[prefix]):
                cv2.imwrite(str(d_pred / stem), p)
                cv2.imwrite(str(d_gt / stem), m)
    out = paper_tables.per_set_metrics({'M': str(pred)}, str(gt))
    for name, prefix, _ in paper_tables.TEST_SETS:
        ref = evaluate_folder(*map(str, alone[prefix]))
        got = out['M'][name]
        assert len(got['stems']) == len(ref['stems'])
        for k in ('ODS', 'OIS', 'AP'):
            assert got[k] == ref[k]
    lines = paper_tables.breakdown_lines(out)
    assert lines[0].startswith('| method | DeepCrack test ODS / OIS / AP')
    d = out['M']['DeepCrack test']
    assert f'| M | {d["ODS"]:.3f} / {d["OIS"]:.3f} / {d["AP"]:.3f} |' in \
        lines[2]
    assert lines[-1] == ('| darkness floor (docs/baselines.md) | '
                         '0.66 / 0.78 / 0.73 | 0.33 / 0.39 / 0.21 |')


def test_stage_minutes_skips_nested_stage():
    assert paper_tables.stage_minutes(
        {'classifier': 60, 'wsv': 120, 'pseudo_labels (inside wsv)': 50}
    ) == 3.0


@pytest.mark.parametrize('iters,val,expected', [
    (1500, None, ['train_cfg.max_iters=1500',
                  'param_scheduler.0.milestones=[1125]',
                  'default_hooks.checkpoint.interval=1500']),
    (500, 250, ['train_cfg.max_iters=500',
                'param_scheduler.0.milestones=[375]',
                'train_cfg.val_interval=250',
                'default_hooks.checkpoint.interval=250'])])
def test_seg_schedule_options_parse_to_the_schedule(iters, val, expected):
    """The CPU schedule options, and mmengine parses them into the values
    the configs expect (a list of milestones, integers)."""
    from mmengine.config import DictAction
    from protocol_stages import seg_schedule_options
    options = seg_schedule_options(iters, val)
    assert options == expected
    parser = argparse.ArgumentParser()
    parser.add_argument('--opts', nargs='+', action=DictAction)
    parsed = parser.parse_args(['--opts', *options]).opts
    assert parsed['param_scheduler.0.milestones'] == [iters * 3 // 4]
    assert parsed['train_cfg.max_iters'] == iters


def test_invocation_quotes_the_arguments_the_shell_way(monkeypatch):
    import shlex

    from protocol_stages import invocation
    argv = ['--out', 'a dir/x', '--seg-options', "p=[1, 2]"]
    line = invocation('comparison_tables.py', argv)
    assert line.startswith('python benchmarks/comparison_tables.py ')
    # the shell splits it back into exactly these arguments
    assert shlex.split(line)[2:] == argv
    monkeypatch.setattr('sys.argv', ['x.py', '--tables', 'II'])
    assert invocation('x.py') == 'python benchmarks/x.py --tables II'
