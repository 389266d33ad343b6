"""PseudoLabelGenerator tile_size: do tiles leave seams in the labels?

A stand-in crack classifier with a known response (dark thin lines, coarse
feature map like a CNN's last stage) replaces the tiny untrained ResNet, so
that the patch map, Grad-CAM++ and the label follow the drawn cracks.

Measured (tile 128 on 256 x 384 synthetic images, seeds 1 and 2):
independent tiles (``tile_size=128``) make the merged map jump across tile
borders 5.1-5.6x more than between other columns (0.167 vs 0.033, 0.039 vs
0.007) and agree with the whole-image label on 89-96 % of the pixels within
16 px of a border; overlapping blended tiles (``tile_size=(128, 32)``)
jump there as much as the whole-image map (0.044 vs 0.043) and agree on
99.3-99.7 %. Each tile still normalises its own Grad-CAM: a faint crack
that the whole image leaves unlabelled (a stronger crack sets the scale) is
labelled where its tile has nothing stronger — with independent tiles the
label starts exactly at the tile border, with blended tiles inside the
overlap.
"""
import dataclasses

import cv2
import numpy as np
import pytest
import torch
from conftest import make_tiny_classifier
from torch import nn

from mmcrack.datasets.synthetic import (
    SyntheticCrackConfig,
    make_synthetic_sample,
)
from mmcrack.pseudo_label.generator import PseudoLabelGenerator


class DarkLineNet(nn.Module):
    """2-class logits ``(0, a * mean(F) - b)`` with ``F`` the 8 x 8 max-pool
    of ``relu(centre - surround)`` darkness (3 x 3 centre, 9 x 9 box): a
    32 px window is crack when it holds a dark line (p ~ 0.15 on plain
    texture, ~ 0.85 for a 30-level line); Grad-CAM++ of ``features`` is
    ``F`` up to scale."""

    def __init__(self, a: float = 40.0, b: float = 4.8):
        super().__init__()
        conv = nn.Conv2d(3, 1, 9, padding=4, padding_mode='replicate')
        kernel = torch.full((9, 9), -1 / 81.0)
        kernel[3:6, 3:6] += 1 / 9.0
        with torch.no_grad():
            conv.weight[:] = -kernel / 3  # dark centre: positive
            conv.bias.zero_()
        self.features = nn.Sequential(conv, nn.ReLU(),
                                      nn.MaxPool2d(8, 8, ceil_mode=True))
        self.a, self.b = a, b

    def forward(self, x, mode='tensor'):
        score = self.a * self.features(x).mean(dim=(1, 2, 3)) - self.b
        return torch.stack([torch.zeros_like(score), score], dim=1)


@pytest.fixture(scope='module')
def make_generator(tmp_path_factory):
    torch.set_num_threads(1)
    cls = make_tiny_classifier(tmp_path_factory.mktemp('cls'))

    def make(tile_size):
        gen = PseudoLabelGenerator(*cls, tile_size=tile_size)
        net = DarkLineNet().eval()
        gen.model = gen.classifier.model = net
        gen.target_layer = net.features
        gen.crack_index = gen.classifier.crack_index = 1
        return gen
    return make


def faint_and_strong(faint_contrast=30.0, h=128, w=256):
    """A faint crack across the tile border at x = 128 and a strong one in
    the left tile only."""
    rng = np.random.default_rng(0)
    grey = 150 + 6 * rng.standard_normal((h, w))
    faint = np.zeros((h, w), np.uint8)
    cv2.line(faint, (8, 64), (w - 8, 70), 1, 2)
    strong = np.zeros((h, w), np.uint8)
    cv2.line(strong, (40, 8), (48, h - 8), 1, 3)
    grey -= faint_contrast * faint + 90.0 * strong
    img = np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[..., None], 3, 2)
    faint = faint.astype(bool)
    faint[:, 30:60] = False  # where it crosses the strong one
    return img, faint


def labelled_columns(label, crack):
    cols = (label.astype(bool) & crack).any(axis=0)
    return np.flatnonzero(cols)


def border_jump(soft, borders):
    """Mean |step| of the map across the given columns, and elsewhere."""
    step = np.abs(np.diff(soft.astype(np.float64), axis=1))
    at = np.zeros(step.shape[1], bool)
    at[[b - 1 for b in borders]] = True
    return step[:, at].mean(), step[:, ~at].mean()


def test_per_tile_cam_normalisation_cuts_a_faint_crack(make_generator):
    img, faint = faint_and_strong()
    whole = make_generator(None)(img, return_stages=True)
    independent = make_generator(128)(img, return_stages=True)
    blended = make_generator((128, 32))(img)
    # the whole image: the strong crack sets the CAM scale, the faint one
    # stays below the fusion threshold on both sides
    assert labelled_columns(whole.label, faint).size == 0
    right = np.s_[:, 128:]
    cam = {k: r.stages['cam'][right][faint[right]].mean() for k, r in
           (('whole', whole), ('independent', independent))}
    assert cam['whole'] < 0.45  # measured CAM on the faint crack: 0.34
    assert cam['independent'] > 0.75  # the right tile's own max: 0.86
    # independent tiles: labelled from the tile border on, exactly
    cols = labelled_columns(independent.label, faint)
    assert cols.min() == 128 and cols.max() > 240
    # blended tiles (starts 0, 96, 128): no cut at a tile border, the label
    # fades out inside the overlap 96..127 (measured: from column 102)
    cols = labelled_columns(blended.label, faint)
    assert 96 < cols.min() < 128 and cols.max() > 240


def test_a_crack_crossing_tile_borders_stays_continuous(make_generator):
    img, faint = faint_and_strong(faint_contrast=60.0)
    for tile in (None, 128, (128, 32)):
        cols = labelled_columns(make_generator(tile)(img).label, faint)
        # every column from the strong crack to the end: no gap at 128
        assert np.array_equal(cols[cols >= 96], np.arange(96, 250)), tile


@pytest.mark.parametrize('seed', [1, 2])
def test_blended_tiles_leave_no_seams(make_generator, seed):
    cfg = dataclasses.replace(SyntheticCrackConfig(), height=256, width=384,
                              crack_free_prob=0.0, max_cracks=4,
                              crack_length=(200, 400))
    img, _ = make_synthetic_sample(seed, 0, cfg)
    borders = [128, 256]  # independent tiles; blended starts 0, 96, 192, 256
    near = np.zeros(384, bool)
    for b in borders:
        near[b - 16:b + 16] = True
    whole = make_generator(None)(img)
    out = {}
    for tile in (128, (128, 32)):
        r = make_generator(tile)(img)
        at, elsewhere = border_jump(r.soft, borders)
        agree = (r.label[:, near] == whole.label[:, near]).mean()
        out[str(tile)] = (at, elsewhere, agree)
    whole_at, _ = border_jump(whole.soft, borders)
    at, elsewhere, agree = out['128']
    assert at > 3 * elsewhere and at > 3 * whole_at  # seams
    assert agree < 0.97
    at, elsewhere, agree_blended = out['(128, 32)']
    assert at < max(1.5 * elsewhere, whole_at + 0.005)  # no seams
    assert agree_blended > 0.99 and agree_blended > agree


def test_blended_tiles_outputs(make_generator):
    img, _ = make_synthetic_sample(3, 0, dataclasses.replace(
        SyntheticCrackConfig(), height=150, width=230))
    r = make_generator((96, 24))(img, return_stages=True)
    assert r.soft.shape == r.label.shape == (150, 230)
    assert r.soft.dtype == np.float32 and 0 <= r.soft.min() <= r.soft.max()
    assert r.soft.max() <= 1
    assert set(r.stages) == {'patch', 'cam', 'localization', 'threshold',
                             'merged'}
    for v in r.stages.values():
        assert v.shape == (150, 230) and v.dtype == np.float32
        assert 0 <= v.min() and v.max() <= 1
    # the blended soft map is the blended merged stage
    np.testing.assert_array_equal(r.stages['merged'], r.soft)
    np.testing.assert_array_equal(r.label, r.soft >= 0.05)
    with pytest.raises(ValueError, match='smaller than the patch'):
        make_generator((16, 4))(img)


def test_images_that_fit_in_a_tile_are_unchanged(make_generator):
    img, _ = make_synthetic_sample(4, 0, dataclasses.replace(
        SyntheticCrackConfig(), height=120, width=200))
    ref = make_generator(None)(img, return_stages=True)
    for tile in ((200, 64), [256, 32], 200):
        r = make_generator(tile)(img, return_stages=True)
        np.testing.assert_array_equal(r.soft, ref.soft)
        np.testing.assert_array_equal(r.label, ref.label)
        for k, v in ref.stages.items():
            np.testing.assert_array_equal(r.stages[k], v)
