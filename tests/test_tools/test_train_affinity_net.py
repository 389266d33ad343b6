"""tools/train_affinity_net.py: the network equals the Python call's,
the same seed gives the same bytes, --num-images draws a subset, and a
preset without the affinity steps is refused naming it."""
import json
import os
import os.path as osp
import shutil

import pytest
import torch

import mmcrack  # noqa: F401
from mmcrack.pseudo_label.affinity_walk import (
    crf_labels_of,
    load_affinity_net,
    train_affinity_net,
)
from mmcrack.pseudo_label.presets import load_preset
from mmcrack.utils.file_io import read_image

OPTIONS = ['crf.gaussian_compat=1.0', 'crf.bilateral_sxy=10.0',
           'crf.bilateral_srgb=5.0', 'crf.bilateral_compat=5.0',
           'affinity.iterations=3', 'affinity.crop_size=64',
           'affinity.batch_size=2']


def _tool():
    from conftest import load_tool
    return load_tool('tools/train_affinity_net.py')


@pytest.fixture
def img_dir(tiny_synthetic, tmp_path):
    folder = tmp_path / 'imgs'
    shutil.copytree(osp.join(tiny_synthetic, 'images', 'train'), folder)
    return folder


def test_network_equals_the_python_call(classifier, img_dir, tmp_path):
    out = str(tmp_path / 'aff.pth')
    record = _tool().main([*classifier, str(img_dir), '--out', out,
                           '--cfg-options', *OPTIONS])
    names = sorted(os.listdir(img_dir))
    assert record['images'] == [osp.splitext(n)[0] for n in names]
    settings = load_preset('affinity_walk', {
        k: float(v) if '.' in v else int(v)
        for k, v in (o.split('=') for o in OPTIONS)})
    images = [read_image(str(img_dir / n), 'unchanged_rgb') for n in names]
    net, stats = train_affinity_net(
        crf_labels_of(settings, *classifier), images,
        settings['confidence'], settings['affinity'], log=None)
    saved = load_affinity_net(out)
    for k, v in net.state_dict().items():
        torch.testing.assert_close(saved.state_dict()[k], v, rtol=0, atol=0)
    written = json.loads(open(out[:-4] + '.json').read())
    assert written['last_loss'] == pytest.approx(stats['last_loss'])
    assert written['pairs'] == stats['pairs']


def test_same_seed_same_bytes_and_subset(classifier, img_dir, tmp_path):
    tool = _tool()
    runs = []
    for name in ('a', 'b'):
        out = str(tmp_path / f'{name}.pth')
        runs.append(tool.main([*classifier, str(img_dir), '--out', out,
                               '--num-images', '2', '--seed', '3',
                               '--cfg-options', *OPTIONS]))
    assert len(runs[0]['images']) == 2 and runs[0]['images'] == \
        runs[1]['images']
    a = torch.load(str(tmp_path / 'a.pth'), weights_only=False)
    b = torch.load(str(tmp_path / 'b.pth'), weights_only=False)
    for k in a['state_dict']:
        assert torch.equal(a['state_dict'][k], b['state_dict'][k])


def test_preset_without_affinity_steps_is_refused(classifier, img_dir,
                                                  tmp_path):
    with pytest.raises(SystemExit, match='preset crf has no confidence'):
        _tool().main([*classifier, str(img_dir), '--out',
                      str(tmp_path / 'x.pth'), '--preset', 'crf'])
    with pytest.raises(SystemExit, match='must be a .pth'):
        _tool().main([*classifier, str(img_dir), '--out',
                      str(tmp_path / 'x.pt')])
