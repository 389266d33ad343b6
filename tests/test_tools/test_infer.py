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
    assert CrackInferencer(config, ckpt, 'cpu').threshold == 0.5
    state = torch.load(ckpt, weights_only=False)
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
    out = run_tool(['tools/infer.py', config, ckpt, img, '--out',
                    str(tmp_path), '--device', 'cpu'])
    assert '1 image(s)' in out.stdout and 'threshold 0.50' in out.stdout
    assert osp.isfile(tmp_path / 'mask' / 'test_0001.png')
