"""benchmarks/weak_label_tables.py: the reference options and the target
check (the runs themselves are hours of benchmark, not tests)."""
import argparse
import json
import os.path as osp
import sys

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
    args = argparse.Namespace(device='cpu', results=str(tmp_path / 'R.md'))
    runner = type('Runner', (), {'seconds': lambda self: {'a': 60}})()
    weak_label_tables.write(args, report(0.95, 0.78), {
        'class folders': report(0.955, 0.775),
        '256 px tile labels': report(0.90, 0.70)}, 60, runner)
    text = (tmp_path / 'R.md').read_text()
    assert 'class folders: patch F1 +0.005, WSV ODS -0.005 against the ' \
           'reference (target within ±0.01: met).' in text
    assert '256 px tile labels: patch F1 -0.050, WSV ODS -0.080 (90 % of ' \
           'the reference WSV ODS).' in text
    assert '| class folders | 0.955 / 0.955 / 0.955 | 0.775 / 0.775 / ' \
           '0.775 | 300 / 371 | 0 / 0 |' in text
