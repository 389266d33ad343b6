"""tools/generate_pseudo_labels.py: outputs, resume, bad images, presets."""
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from conftest import make_tiny_classifier as _classifier


def _tool():
    from conftest import load_tool
    return load_tool('tools/generate_pseudo_labels.py')


@pytest.fixture(scope='module')
def setup(tmp_path_factory, tiny_synthetic):
    tmp = tmp_path_factory.mktemp('gen_tool')
    cfg, ckpt = _classifier(tmp)
    img_dir = tmp / 'imgs'
    shutil.copytree(osp.join(tiny_synthetic, 'images', 'train'), img_dir)
    return cfg, ckpt, img_dir


def test_writes_labels_summary_stages_and_resumes(setup, tmp_path):
    cfg, ckpt, img_dir = setup
    tool = _tool()
    out = tmp_path / 'out'
    args = [cfg, ckpt, str(img_dir), str(out), '--save-stages',
            '--cfg-options', 'output.min_crack_pixels=1']
    first = tool.main(args)
    assert first['images'] == 4 and first['generated'] == 4
    stems = sorted(p[:-4] for p in os.listdir(img_dir))
    for stem in stems:
        label = cv2.imread(str(out / f'{stem}.png'), cv2.IMREAD_UNCHANGED)
        assert label.shape == (64, 64) and set(np.unique(label)) <= {0, 255}
        assert osp.isfile(out / 'stages' / f'{stem}.png')
    summary = json.loads((out / 'summary.json').read_text())
    assert sorted(summary['kept'] + summary['dropped']) == stems
    assert summary['settings']['output']['min_crack_pixels'] == 1
    # a killed run: one label missing -> only that one is generated again
    before = cv2.imread(str(out / f'{stems[1]}.png'), cv2.IMREAD_UNCHANGED)
    os.remove(out / f'{stems[1]}.png')
    second = tool.main(args)
    assert second['generated'] == 1 and second['reused'] == 3
    np.testing.assert_array_equal(
        cv2.imread(str(out / f'{stems[1]}.png'), cv2.IMREAD_UNCHANGED),
        before)
    assert second['kept'] == first['kept']
    assert not [p for p in os.listdir(out) if p.startswith('.tmp-')]


def test_bad_image_named_or_skipped(setup, tmp_path):
    cfg, ckpt, img_dir = setup
    tool = _tool()
    imgs = tmp_path / 'imgs'
    shutil.copytree(img_dir, imgs)
    (imgs / 'broken.jpg').write_bytes(b'')
    with pytest.raises(ValueError, match=r'broken\.jpg.*empty'):
        tool.main([cfg, ckpt, str(imgs), str(tmp_path / 'o1')])
    summary = tool.main([cfg, ckpt, str(imgs), str(tmp_path / 'o2'),
                         '--skip-bad'])
    assert [f['image'] for f in summary['failed']] == [str(imgs /
                                                           'broken.jpg')]
    assert summary['generated'] == 4


def test_published_preset_writes_soft_maps(setup, tmp_path):
    cfg, ckpt, img_dir = setup
    summary = _tool().main([cfg, ckpt, str(img_dir), str(tmp_path),
                            '--preset', 'published_code'])
    s = summary['settings']
    assert s['threshold']['d'] == 5 and s['output']['binarize'] is False
    assert summary['dropped'] == [] or s['output']['min_crack_pixels'] == 0


def test_grey_and_16bit_inputs(setup, tmp_path, capsys):
    cfg, ckpt, img_dir = setup
    imgs = tmp_path / 'imgs'
    os.makedirs(imgs)
    src = cv2.imread(str(sorted(img_dir.iterdir())[0]))
    cv2.imwrite(str(imgs / 'grey.png'), cv2.cvtColor(src,
                                                     cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(imgs / 'deep.png'), src.astype(np.uint16) * 257)
    summary = _tool().main([cfg, ckpt, str(imgs), str(tmp_path / 'o')])
    assert summary['generated'] == 2
    err = capsys.readouterr().err
    assert 'grey image converted' in err and '16-bit image scaled' in err


def test_labels_of_other_settings_are_refused_or_replaced(setup, tmp_path):
    """A folder never mixes labels of two settings: a second run with
    another setting is refused, and replaces them with --overwrite."""
    cfg, ckpt, img_dir = setup
    tool = _tool()
    out = tmp_path / 'out'
    base = [cfg, ckpt, str(img_dir), str(out)]
    first = tool.main(base + ['--cfg-options', 'output.threshold=0.05'])
    assert first['generated'] == 4
    with pytest.raises(FileExistsError, match='another classifier '
                       'checkpoint or other settings.*--overwrite'):
        tool.main(base + ['--cfg-options', 'output.threshold=0.3'])
    again = tool.main(base + ['--cfg-options', 'output.threshold=0.05'])
    assert again['generated'] == 0 and again['reused'] == 4
    replaced = tool.main(base + ['--overwrite', '--cfg-options',
                                 'output.threshold=0.3'])
    assert replaced['generated'] == 4
    stamp = json.loads((out / 'labels_key.json').read_text())
    assert stamp['settings']['output']['threshold'] == 0.3
