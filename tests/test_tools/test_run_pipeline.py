"""tools/run_pipeline.py end to end on a tiny synthetic set (--smoke)."""
import json
import os.path as osp

import pytest
from conftest import run_tool


@pytest.mark.slow
def test_pipeline_smoke_and_resume(tmp_path):
    out = str(tmp_path / 'pipeline')
    run_tool(['tools/run_pipeline.py', '--smoke', '--out', out,
              '--device', 'cpu'])
    with open(osp.join(out, 'report.json')) as f:
        report = json.load(f)
    for key in ('precision', 'recall', 'f1'):
        assert 0.0 <= report['classifier'][key] <= 1.0
    for key in ('ODS', 'OIS', 'AP'):
        assert 0.0 <= report['pseudo_labels'][key] <= 1.0
    assert set(report['test']) == {'WSV', 'darkness', 'global Otsu'}
    for name, metrics in report['test'].items():
        for key in ('ODS', 'OIS', 'AP'):
            assert 0.0 <= metrics[key] <= 1.0, (name, key)
    assert report['pseudo_label_counts']['images'] == 6
    for stage in ('data', 'classifier', 'classifier_test', 'wsv', 'labels',
                  'wsv_test', 'baselines', 'report'):
        assert report['seconds'][stage] > 0
        assert report['commands'][stage]
    assert osp.isfile(report['pr_curve'])
    assert osp.isfile(osp.join(out, 'report.md'))
    assert len(list((tmp_path / 'pipeline/wsv_maps/overlay').iterdir())) == 3

    # a second run reuses every stage, the report's comparison included
    second = run_tool(['tools/run_pipeline.py', '--smoke', '--out', out,
                       '--device', 'cpu'])
    reused = [line.split()[1].rstrip(':')
              for line in second.stdout.splitlines()
              if line.startswith('[pipeline]') and ': reused (' in line]
    assert reused == ['data', 'classifier', 'classifier_test', 'wsv',
                      'labels', 'wsv_test', 'baselines', 'report']
    with open(osp.join(out, 'report.json')) as f:
        again = json.load(f)
    assert again['test'] == report['test']
