"""CrackInferencer / tools/infer.py: files, values, threshold choice."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from conftest import run_tool


def test_inferencer_outputs(tiny_seg_checkpoint, tiny_synthetic, tmp_path):
    from mmcrack.apis import CrackInferencer
    config, ckpt = tiny_seg_checkpoint
    inf = CrackInferencer(config, ckpt, device='cpu', threshold=0.3)
    folder = osp.join(tiny_synthetic, 'images', 'test')
    results = inf(folder, out_dir=str(tmp_path / 'out'), show_progress=False)
    assert [r['name'] for r in results] == ['test_0000', 'test_0001']
    for r in results:
        prob, mask = r['prob'], r['mask']
        assert prob.shape == (64, 64) and prob.dtype == np.float32
        assert 0.0 <= prob.min() and prob.max() <= 1.0
        np.testing.assert_array_equal(mask, prob >= 0.3)
        png = cv2.imread(str(tmp_path / 'out/prob' / (r['name'] + '.png')),
                         cv2.IMREAD_GRAYSCALE)
        np.testing.assert_array_equal(png, np.round(prob * 255))
        m = cv2.imread(str(tmp_path / 'out/mask' / (r['name'] + '.png')),
                       cv2.IMREAD_GRAYSCALE)
        np.testing.assert_array_equal(m, mask * 255)
        assert osp.isfile(tmp_path / 'out/overlay' / (r['name'] + '.jpg'))
    # the same image as an array gives the same map (RGB input)
    img = cv2.cvtColor(cv2.imread(osp.join(folder, 'test_0000.png')),
                       cv2.COLOR_BGR2RGB)
    np.testing.assert_allclose(inf.predict(img), results[0]['prob'],
                               atol=1e-6)


def test_threshold_from_checkpoint_and_default(tiny_seg_checkpoint, tmp_path):
    from mmengine.logging import HistoryBuffer

    from mmcrack.apis import CrackInferencer, threshold_from_checkpoint
    config, ckpt = tiny_seg_checkpoint
    state = torch.load(ckpt, weights_only=False)
    # the fixture's own validation may store any ODS threshold: drop it
    for key in [k for k in state['message_hub']['log_scalars']
                if k.endswith('ODS_thr')]:
        del state['message_hub']['log_scalars'][key]
    bare = str(tmp_path / 'no_ods.pth')
    torch.save(state, bare)
    inf = CrackInferencer(config, bare, 'cpu')
    assert inf.threshold == 0.5 and inf.threshold_source == 'default'
    buf = HistoryBuffer()
    buf.update(0.21)
    buf.update(0.37)  # latest validation wins
    state['message_hub']['log_scalars']['val/ODS_thr'] = buf
    path = str(tmp_path / 'with_ods.pth')
    torch.save(state, path)
    assert threshold_from_checkpoint(state) == pytest.approx(0.37)
    inf = CrackInferencer(config, path, 'cpu')
    assert inf.threshold == pytest.approx(0.37)
    assert inf.threshold_source == 'checkpoint ODS'


def test_slide_mode_matches_image_size(tiny_seg_checkpoint, tiny_synthetic):
    from mmcrack.apis import CrackInferencer
    config, ckpt = tiny_seg_checkpoint
    inf = CrackInferencer(config, ckpt, 'cpu', slide=(32, 16))
    img = np.random.default_rng(0).integers(0, 255, (80, 100, 3), np.uint8)
    assert inf.predict(img).shape == (80, 100)


def test_infer_tool(tiny_seg_checkpoint, tiny_synthetic, tmp_path):
    config, ckpt = tiny_seg_checkpoint
    img = osp.join(tiny_synthetic, 'images', 'test', 'test_0001.png')
    from mmcrack.apis import threshold_from_checkpoint
    out = run_tool(['tools/infer.py', config, ckpt, img, '--out',
                    str(tmp_path), '--device', 'cpu'])
    stored = threshold_from_checkpoint(torch.load(ckpt, weights_only=False))
    assert '1 image(s)' in out.stdout
    assert f'threshold {stored or 0.5:.2f}' in out.stdout
    assert osp.isfile(tmp_path / 'mask' / 'test_0001.png')


def _large_image(h=700, w=900, seed=3):
    import dataclasses

    from mmcrack.datasets.synthetic import (
        SyntheticCrackConfig,
        make_synthetic_sample,
    )
    cfg = dataclasses.replace(SyntheticCrackConfig(), height=h, width=w,
                              crack_free_prob=0.0, max_cracks=4,
                              crack_length=(300, 700))
    return make_synthetic_sample(seed, 0, cfg)[0]


def test_tiled_inference_matches_whole_image(tiny_seg_checkpoint, capsys):
    """700 x 900 px in 256 px tiles (overlap 32) vs one forward pass.

    The 2-iteration U-Net's map spans only ~0.015 around 0.5, and a crop
    changes its output up to ~100 px inside the crop border (its context).
    Measured on two trainings of the fixture: tiled vs whole max 2.9e-3 /
    4.7e-3, mean 0.9e-4 / 1.9e-4; overlap 96: max 0.9e-3 / 2.8e-3;
    abutting tiles (overlap 0): max 7.3e-3 / 6.9e-3, mean 1.3e-4 /
    2.4e-4. Across the tile-border columns the blended map steps as much
    as the whole-image map (mean 5.3e-4 / 6.4e-4 vs 5.3e-4 / 6.7e-4).
    """
    from mmcrack.apis import CrackInferencer
    from mmcrack.apis.tiled_prediction import TileGrid
    config, ckpt = tiny_seg_checkpoint
    img = _large_image()

    def tiled_map(overlap):
        inf = CrackInferencer(config, ckpt, 'cpu', tile=256, overlap=overlap)
        return inf, inf.predict(img)

    whole_inf = CrackInferencer(config, ckpt, 'cpu', tile=None)
    whole = whole_inf.predict(img).astype(np.float64)
    tiled_inf, tiled = tiled_map(32)
    assert tiled_inf.tile_align == 32  # the U-Net's size_divisor
    assert tiled_inf.num_tiles(700, 900) == 12  # 3 rows x 4 columns
    assert tiled.shape == (700, 900) and tiled.dtype == np.float32
    assert 0.0 <= tiled.min() and tiled.max() <= 1.0
    diff = np.abs(tiled - whole)
    assert diff.max() < 1e-2 and diff.mean() < 5e-4
    naive = np.abs(tiled_map(0)[1] - whole)
    wide = np.abs(tiled_map(96)[1] - whole)
    assert diff.mean() < naive.mean() and wide.max() < naive.max()
    # no seams: steps across the tile borders as in the whole-image map
    grid = TileGrid(700, 900, 256, 32, 32)
    cols = sorted({x for x in grid.xs if x} |
                  {x + 256 for x in grid.xs if x + 256 < 900})

    def step_at_borders(m):
        return np.abs(m[:, cols] - m[:, [c - 1 for c in cols]]).mean()

    assert step_at_borders(tiled) <= 1.05 * step_at_borders(whole)
    # through __call__: progress lines per tile, not per pixel row
    capsys.readouterr()
    res = tiled_inf([img], show_progress=True)
    lines = [ln for ln in capsys.readouterr().out.splitlines()
             if 'tile' in ln]
    assert lines == [f'image_0000: tile {k}/12' for k in (2, 4, 6, 8, 10,
                                                          12)]
    np.testing.assert_array_equal(res[0]['prob'], tiled)
    assert res[0]['shape'] == (700, 900)
    # below the tile size: exactly the whole-image pass
    small = img[:256, :200]
    np.testing.assert_array_equal(tiled_inf.predict(small),
                                  whole_inf.predict(small))


def test_inferencer_rejects_bad_tiles(tiny_seg_checkpoint):
    from mmcrack.apis import CrackInferencer
    config, ckpt = tiny_seg_checkpoint
    with pytest.raises(ValueError, match='smaller than the tile'):
        CrackInferencer(config, ckpt, 'cpu', tile=64, overlap=64)
    with pytest.raises(ValueError, match='at least align'):
        CrackInferencer(config, ckpt, 'cpu', tile=64, overlap=40)
    assert CrackInferencer(config, ckpt, 'cpu', tile=0).num_tiles(
        5000, 5000) == 1


def test_infer_tool_tiles(tiny_seg_checkpoint, tiny_synthetic, tmp_path):
    """--tile 256 --overlap 32 writes the same files as whole-image runs;
    a small image's files are identical, a large one's maps are close."""
    import subprocess
    import sys
    config, ckpt = tiny_seg_checkpoint
    src = tmp_path / 'in'
    src.mkdir()
    small = osp.join(tiny_synthetic, 'images', 'test', 'test_0001.png')
    cv2.imwrite(str(src / 'small.png'), cv2.imread(small))
    cv2.imwrite(str(src / 'large.png'),
                cv2.cvtColor(_large_image(300, 520), cv2.COLOR_RGB2BGR))
    runs = {}
    for key, extra in (('whole', ['--tile', '0']),
                       ('tiled', ['--tile', '256', '--overlap', '32'])):
        out = tmp_path / key
        proc = run_tool(['tools/infer.py', config, ckpt, str(src), '--out',
                         str(out), '--device', 'cpu', '--threshold', '0.5']
                        + extra)
        files = sorted(str(p.relative_to(out)) for p in out.rglob('*')
                       if p.is_file())
        runs[key] = (out, files, proc.stdout)
    assert runs['whole'][1] == runs['tiled'][1] == [
        f'{kind}/{stem}.{ext}' for kind, ext in (
            ('mask', 'png'), ('overlay', 'jpg'), ('prob', 'png'))
        for stem in ('large', 'small')]
    assert 'large: tile 6/6' in runs['tiled'][2]  # 2 rows x 3 columns
    assert ': tile ' not in runs['whole'][2]
    for name in runs['whole'][1]:
        a, b = (cv2.imread(str(runs[k][0] / name)) for k in runs)
        assert a.shape == b.shape
        if name.startswith('prob/'):
            diff = np.abs(a.astype(int) - b.astype(int))
            assert diff.max() <= 2  # 0..255 levels (measured <= 1)
        if 'small' in name:
            np.testing.assert_array_equal(a, b)
    # bad sizes stop before the model is loaded
    proc = subprocess.run(
        [sys.executable, 'tools/infer.py', config, 'missing.pth', str(src),
         '--out', str(tmp_path / 'bad'), '--tile', '64', '--overlap', '64'],
        cwd=osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
        capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'infer: error: --tile/--overlap' in proc.stderr
