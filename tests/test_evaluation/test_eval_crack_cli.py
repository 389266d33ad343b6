"""tools/analysis_tools/eval_crack.py and mmcrack.evaluation.folder_eval."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from crack_oracle import oracle_counts, oracle_summary

from mmcrack.evaluation import evaluate_folder, load_prob_map
from mmcrack.evaluation.functional import DEFAULT_THRESHOLDS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'eval_crack.py')


def load_tool():
    from conftest import load_tool as load
    return load('tools/analysis_tools/eval_crack.py')


def write_set(root, seed=0, n=4, npy=False):
    """Masks (0/255 PNG) and predictions (8-bit PNG or float .npy) of odd
    sizes; returns (pred_dir, gt_dir, [(prob_as_read, gt01), ...])."""
    rng = np.random.default_rng(seed)
    pred_dir, gt_dir = osp.join(root, 'pred'), osp.join(root, 'gt')
    for d in (pred_dir, gt_dir):
        os.makedirs(d, exist_ok=True)
    pairs = []
    for i in range(n):
        h, w = 11 + 2 * i, 17 + 4 * i
        gt = (rng.random((h, w)) < 0.2).astype(np.uint8)
        if i == 1:
            gt[:] = 0
        cv2.imwrite(osp.join(gt_dir, f'im{i}.png'), gt * 255)
        if npy:
            prob = rng.random((h, w)).astype(np.float32)
            np.save(osp.join(pred_dir, f'im{i}.npy'), prob)
            pairs.append((prob, gt))
        else:
            v = np.clip(gt * 120 + rng.integers(0, 136, (h, w)), 0,
                        255).astype(np.uint8)
            cv2.imwrite(osp.join(pred_dir, f'im{i}.png'), v)
            pairs.append((v / 255.0, gt))
    return pred_dir, gt_dir, pairs


@pytest.mark.parametrize('npy', [False, True])
@pytest.mark.parametrize('f1_mode', ['mean', 'pooled'])
def test_evaluate_folder_equals_oracle(tmp_path, npy, f1_mode):
    pred_dir, gt_dir, pairs = write_set(str(tmp_path), npy=npy)
    s = evaluate_folder(pred_dir, gt_dir, f1_mode=f1_mode)
    ref = [oracle_counts(p, g, DEFAULT_THRESHOLDS) for p, g in pairs]
    o = oracle_summary(ref, DEFAULT_THRESHOLDS, f1_mode)
    for key in ('ODS', 'OIS', 'AP', 'ODS_thr'):
        assert abs(s[key] - o[key]) <= 1e-12
    assert s['stems'] == ['im0', 'im1', 'im2', 'im3']


def test_cli_table_json_plot_and_compare(tmp_path, capsys):
    pred_a, gt_dir, pairs = write_set(str(tmp_path / 'a'))
    pred_b, _, pairs_b = write_set(str(tmp_path / 'b'), npy=True)
    out = tmp_path / 'out'
    tool = load_tool()
    tool.main([pred_a, gt_dir, '--compare', pred_b, '--labels', 'png',
               'npy', '--out', str(out)])
    text = capsys.readouterr().out
    assert 'ODS_thr' in text and 'png' in text and 'npy' in text
    res = json.loads((out / 'metrics.json').read_text())
    assert set(res['methods']) == {'png', 'npy'}
    o = oracle_summary([oracle_counts(p, g, DEFAULT_THRESHOLDS)
                        for p, g in pairs], DEFAULT_THRESHOLDS)
    m = res['methods']['png']
    assert abs(m['ODS'] - o['ODS']) <= 1e-12
    assert abs(m['AP'] - o['AP']) <= 1e-12
    assert len(m['precision']) == len(m['recall']) == 99
    assert set(m['per_image']) == {'im0', 'im1', 'im2', 'im3'}
    # the table line for 'png' shows the same numbers
    line = next(ln for ln in text.splitlines() if ln.startswith('png'))
    assert f'{o["ODS"]:.4f}' in line and f'{o["AP"]:.4f}' in line
    png = cv2.imread(str(out / 'pr_curve.png'))
    assert png is not None and png.shape[0] > 300



def test_cli_report_page_and_flags(tmp_path):
    """--out also writes index.html (rows in docs/report.md); --images adds
    the photos; --no-report leaves the page out."""
    pred_dir, gt_dir, pairs = write_set(str(tmp_path))
    img_dir = tmp_path / 'img'
    img_dir.mkdir()
    for i, (_, gt) in enumerate(pairs):
        cv2.imwrite(str(img_dir / f'im{i}.jpg'),
                    np.dstack([gt * 100 + 50] * 3).astype(np.uint8))
    tool = load_tool()
    out = tmp_path / 'out'
    tool.main([pred_dir, gt_dir, '--out', str(out), '--images',
               str(img_dir)])
    page = (out / 'index.html').read_text(encoding='utf-8')
    assert page.count('<tr data-stem=') == 4
    assert page.count('src="report/image/') == 4
    assert (out / 'report' / 'image' / 'im3.jpg').is_file()
    bare = tmp_path / 'bare'
    tool.main([pred_dir, gt_dir, '--out', str(bare), '--no-report'])
    assert (bare / 'metrics.json').is_file()
    assert not (bare / 'index.html').exists()
    assert not (bare / 'report').exists()
    with pytest.raises(SystemExit):  # --images is for the page
        tool.main([pred_dir, gt_dir, '--images', str(img_dir)])
    with pytest.raises(FileNotFoundError, match='--images'):
        tool.main([pred_dir, gt_dir, '--out', str(out), '--images',
                   str(tmp_path / 'nowhere')])

@pytest.mark.slow
def test_cli_subprocess_on_real_masks(tmp_path):
    """Masks of the real DeepCrack test set used as their own predictions:
    a perfect score, run as a script."""
    from conftest import SHARED_DATASETS, run_tool
    gt = osp.join(SHARED_DATASETS, 'DeepCrack', 'masks', 'test')
    if not osp.isdir(gt):
        pytest.skip('no DeepCrack data')
    import shutil
    pred = tmp_path / 'pred'
    pred.mkdir()
    names = sorted(os.listdir(gt))[:5]
    for n in names:
        shutil.copy(osp.join(gt, n), pred / n)
    split = tmp_path / 'split.txt'
    split.write_text('\n'.join(osp.splitext(n)[0] for n in names))
    proc = run_tool([TOOL, str(pred), gt, '--split', str(split), '--out',
                     str(tmp_path / 'o')])
    assert '1.0000' in proc.stdout
    res = json.loads((tmp_path / 'o' / 'metrics.json').read_text())
    assert res['methods']['pred']['ODS'] == 1.0
    assert res['methods']['pred']['n_images'] == 5
    assert (tmp_path / 'o' / 'index.html').is_file()


def _bad(tmp_path, what):
    pred_dir, gt_dir, _ = write_set(str(tmp_path), n=2, npy=what != 'png')
    if what == 'size':
        cv2.imwrite(osp.join(gt_dir, 'im1.png'),
                    np.zeros((5, 5), np.uint8))
        return pred_dir, gt_dir, 'im1.npy: prediction is 13x21'
    if what == 'unpaired':
        os.remove(osp.join(gt_dir, 'im0.png'))
        return pred_dir, gt_dir, 'have no mask.*im0'
    if what in ('nan', 'inf', 'range'):
        a = np.load(osp.join(pred_dir, 'im1.npy'))
        a[3, 4] = dict(nan=np.nan, inf=np.inf, range=1.2)[what]
        np.save(osp.join(pred_dir, 'im1.npy'), a)
        msg = dict(nan='NaN', inf='inf', range=r'outside \[0, 1\]')[what]
        return pred_dir, gt_dir, f'im1.npy.*{msg}'
    if what == 'intnpy':
        np.save(osp.join(pred_dir, 'im1.npy'), np.zeros((13, 21), np.int64))
        return pred_dir, gt_dir, 'im1.npy: .npy predictions must be float'
    if what == 'png':
        cv2.imwrite(osp.join(pred_dir, 'im1.png'),
                    np.full((13, 21), 300, np.uint16))
        return pred_dir, gt_dir, 'im1.png: uint16 image'
    if what == 'empty':
        import shutil
        for d in (pred_dir, gt_dir):
            shutil.rmtree(d)
            os.makedirs(d)
        return pred_dir, gt_dir, 'no prediction files'
    if what == 'mask01':
        cv2.imwrite(osp.join(gt_dir, 'im1.png'),
                    np.eye(13, 21, dtype=np.uint8))
        return pred_dir, gt_dir, r'im1.png.*0/1'
    raise AssertionError(what)


@pytest.mark.parametrize('what', ['size', 'unpaired', 'nan', 'inf', 'range',
                                  'intnpy', 'png', 'empty', 'mask01'])
def test_bad_input_names_the_file(tmp_path, what):
    pred_dir, gt_dir, match = _bad(tmp_path, what)
    with pytest.raises(ValueError, match=match):
        evaluate_folder(pred_dir, gt_dir)


def test_load_prob_map_grey_colour(tmp_path):
    v = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    p = str(tmp_path / 'g.png')
    cv2.imwrite(p, np.dstack([v, v, v]))
    np.testing.assert_array_equal(load_prob_map(p), v)
    c = np.dstack([v, v, v + 1])
    cv2.imwrite(p, c)
    with pytest.raises(ValueError, match='g.png: colour'):
        load_prob_map(p)
