"""benchmarks/classifier_errors.py: window bins against a slow count, and
the precision / recall of the stricter window-label rules."""
import argparse
import os.path as osp
import sys

import numpy as np
from conftest import REPO

sys.path.insert(0, osp.join(REPO, 'benchmarks'))
import classifier_errors  # noqa: E402


def test_window_bins_count_the_crack_pixels_of_each_window():
    rng = np.random.default_rng(0)
    mask = (rng.random((200, 300)) < 0.002).astype(np.uint8)
    mask[10:40, 10:80] = 1  # a dense block: >= 1001 pixels in some windows
    bins = classifier_errors.window_bins(mask, 64, 32)
    padded = np.pad(mask, ((0, (-200) % 64), (0, (-300) % 64)),
                    mode='reflect')
    slow = []
    for y in range(0, padded.shape[0] - 63, 32):
        for x in range(0, padded.shape[1] - 63, 32):
            n = int(padded[y:y + 64, x:x + 64].sum())
            slow.append(sum(n >= e for e in classifier_errors.BIN_EDGES))
    np.testing.assert_array_equal(bins, slow)
    assert len(set(bins.tolist())) >= 3  # several bins are exercised


def test_error_lines_split_the_misses_and_rescore_the_rules():
    bins = np.array([0, 0, 1, 1, 2, 3, 4, 4])
    preds = np.array([1, 0, 0, 0, 1, 1, 1, 0], bool)
    args = argparse.Namespace(patch_size=128, stride=64, split='test',
                              device='cpu')
    text = '\n'.join(classifier_errors.error_lines(args, bins, preds, 1, 6))
    # 1-10 px: 2 windows, none found; 3 of the 6 crack windows missed
    assert '| 1–10 | 2 | 0 | 0.000 | 0.667 |' in text
    assert '| ≥ 1001 | 2 | 1 | 0.500 | 0.333 |' in text
    assert '| 0 (no crack) | 2 | 1 | – | – |' in text
    # the paper's rule: P 3/4, R 3/6; from 11 px: P 3/4, R 3/4
    assert "| 1 crack pixel(s) (the paper's rule) | 0.7500 | 0.5000 |" in text
    assert '| 11 crack pixel(s) | 0.7500 | 0.7500 | 0.7500 |' in text
