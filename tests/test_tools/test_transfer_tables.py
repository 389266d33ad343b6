"""benchmarks/transfer_tables.py and protocol_stages.py: data roots, the
small-data subsets, RESULTS.md sections and the target checks (the runs
themselves are hours of benchmark, not tests)."""
import argparse
import os
import os.path as osp
import sys

import pytest
from conftest import REPO, write_fake_split_set

sys.path.insert(0, osp.join(REPO, 'benchmarks'))
import protocol_stages  # noqa: E402
import transfer_tables  # noqa: E402


def test_roots_and_subsets(tmp_path):
    dc, cfd = str(tmp_path / 'dc'), str(tmp_path / 'cfd')
    write_fake_split_set(dc, dict(train=[f'{i:03d}' for i in range(12)],
                                  test=['t1', 't2']))
    write_fake_split_set(cfd, dict(train=['001', '002'], val=['009'],
                                   test=['073']))
    args = argparse.Namespace(deepcrack=dc, cfd=cfd)
    root = str(tmp_path / 'r_dc')
    assert transfer_tables.build_root(args, 'DeepCrack', root) == 12
    # DeepCrack has no val split: 5 training images stand in for the
    # classifier's per-epoch log
    assert len(os.listdir(osp.join(root, 'images', 'val'))) == 5
    assert sorted(os.listdir(osp.join(root, 'masks', 'test'))) == [
        't1.png', 't2.png']
    cfd_root = str(tmp_path / 'r_cfd')
    assert transfer_tables.build_root(args, 'CFD', cfd_root) == 3  # + val
    sub = protocol_stages.sample_stems(dc, 'train', 4, seed=0)
    assert sub == protocol_stages.sample_stems(dc, 'train', 4, seed=0)
    assert sub != protocol_stages.sample_stems(dc, 'train', 4, seed=1)
    assert len(set(sub)) == 4 and sub == sorted(sub)
    small = str(tmp_path / 'r_small')
    assert transfer_tables.build_root(args, 'DeepCrack', small, sub) == 4
    assert sorted(f[:-4] for f in os.listdir(
        osp.join(small, 'images', 'train'))) == sub
    with pytest.raises(ValueError, match='has 12 images, 20 asked'):
        protocol_stages.sample_stems(dc, 'train', 20, seed=0)


def test_replace_section_keeps_the_rest(tmp_path):
    path = str(tmp_path / 'R.md')
    protocol_stages.replace_section(path, 'a', ['one'])
    protocol_stages.replace_section(path, 'b', ['two'])
    protocol_stages.replace_section(path, 'a', ['three', 'lines'])
    text = open(path).read()
    assert text.count('<!-- section: a -->') == 1
    assert 'one' not in text and 'three\nlines' in text and 'two' in text
    assert text.index('three') < text.index('two')  # a stays first


def test_options_parse_as_mmengine_values():
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='+', action=DictAction)
    cls = parser.parse_args(['--o', *transfer_tables.cls_options(8)]).o
    assert cls == {'train_cfg.max_epochs': 8,
                   'param_scheduler.step_size': 7,
                   'train_dataloader.dataset.dihedral_aug': 'random'}


def _res(f1, labels, wsv, dark, sets):
    m = lambda v: dict(ODS=v, OIS=v, AP=v)  # noqa: E731
    return dict(classifier={s: dict(precision=f1, recall=f1, f1=f1)
                            for s in sets},
                labels={s: m(labels) for s in sets},
                wsv={s: m(wsv) for s in sets} if wsv else {},
                darkness={s: m(dark) for s in sets}, epochs=4, seconds=60)


def test_cross_lines_check_the_targets():
    args = argparse.Namespace(seg_iters=1000, device='cpu')
    sets = ('DeepCrack', 'CFD')
    results = {('DeepCrack', 'CFD'): dict(
        pretrained=_res(0.8, 0.45, 0.50, 0.33, sets),
        scratch=_res(0.6, 0.30, None, 0.33, sets))}
    text = '\n'.join(transfer_tables.cross_lines(args, results, 60, 'cmd'))
    assert 'DeepCrack → CFD: labels only +0.120 over the darkness map ' \
           '(target ≥ +0.05: met), WSV +0.170 (met), unseen patch F1 ' \
           '+0.200 over from scratch (target ≥ +0.10: met).' in text
    assert '| DeepCrack | CFD (unseen) | scratch | 0.600 / 0.600 / 0.600 ' \
           '| 0.300 | – | 0.330 |' in text


def test_small_lines_compare_with_the_full_data_run():
    args = argparse.Namespace(seed=0, device='cpu')
    results = {'CFD': (30, dict(pretrained=_res(0.7, 0.40, 0.55, 0.33,
                                                ('CFD', ))))}
    full = {'CFD': dict(ODS=0.62, OIS=0.6, AP=0.6)}
    text = '\n'.join(transfer_tables.small_lines(args, results, full, 60,
                                                 'cmd'))
    assert 'CFD 30: labels only +0.070 over the darkness map (met), WSV ' \
           '+0.220 (met), 0.070 below the full-data WSV (target ≤ 0.05: ' \
           'not met).' in text

