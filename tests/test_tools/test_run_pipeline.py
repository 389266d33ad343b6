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


@pytest.mark.slow
def test_weak_label_pipeline_reads_no_mask(tmp_path):
    """Class folders + unlabelled photos + a scored test set: the classifier
    and WSV stages open and list no file under any masks folder (audited in
    their processes), known negatives join the WSV training, and the test
    masks are read only by the scoring stages."""
    import shutil
    out = str(tmp_path / 'weak')
    run_tool(['tools/run_pipeline.py', '--smoke', '--classification',
              '--known-negatives', '--out', out, '--device', 'cpu'])
    with open(osp.join(out, 'report.json')) as f:
        report = json.load(f)
    assert report['weak_labels'] is True
    access = report['mask_paths_accessed']
    assert access['classifier'] == [] and access['wsv'] == []
    assert access['report'] and all('/masks/test' in p
                                    for p in access['report'])
    with open(osp.join(out, 'wsv', 'pseudo_labels', 'manifest.json')) as f:
        manifest = json.load(f)
    assert manifest['negatives'] > 0
    for key in ('ODS', 'OIS', 'AP'):
        assert 0.0 <= report['test']['WSV'][key] <= 1.0
    assert report['pseudo_labels'] is None  # no training masks to judge
    text = open(osp.join(out, 'report.md')).read()
    assert 'No mask file was opened or listed by `classifier` or `wsv`' \
        in text
    # the same classifier data given by path, with unreadable masks beside
    # the photos, and no test set: nothing is scored, nothing is read
    data = osp.join(out, 'data')
    photos = tmp_path / 'site' / 'photos'
    shutil.copytree(osp.join(data, 'images', 'train'), photos)
    (tmp_path / 'site' / 'masks').mkdir()
    for name in __import__('os').listdir(photos):
        (tmp_path / 'site' / 'masks' / name).write_bytes(b'not a png')
    out2 = str(tmp_path / 'weak2')
    run_tool(['tools/run_pipeline.py', '--smoke', '--out', out2, '--device',
              'cpu', '--cls-data', osp.join(data, 'classification'),
              '--images', str(photos)])
    with open(osp.join(out2, 'report.json')) as f:
        second = json.load(f)
    assert second['test'] == {}
    assert all(v == [] for v in second['mask_paths_accessed'].values())
