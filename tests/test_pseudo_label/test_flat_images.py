"""Flat (single-valued) images through the real pseudo-label generator: no
NaN anywhere, an empty label, dropped by the keep rule."""
import numpy as np
import pytest
import torch
from conftest import make_tiny_classifier


@pytest.fixture(scope='module')
def generator(tmp_path_factory):
    from mmcrack.pseudo_label.generator import PseudoLabelGenerator
    torch.set_num_threads(1)
    return PseudoLabelGenerator(
        *make_tiny_classifier(tmp_path_factory.mktemp('flat_cls')),
        device='cpu')


@pytest.mark.parametrize('value,shape', [
    (0, (64, 64, 3)),  # black
    (255, (64, 64, 3)),  # white
    (128, (96, 80, 3)),  # grey, not a multiple of the window
    (90, (20, 20, 3)),  # smaller than one 32 px window
    (200, (48, 64)),  # single channel
])
def test_flat_image_gives_an_empty_dropped_label(generator, value, shape):
    img = np.full(shape, value, np.uint8)
    result = generator(img, return_stages=True)
    for name, stage in result.stages.items():
        assert stage.shape == shape[:2], name
        assert np.isfinite(stage).all(), name
        assert stage.min() >= 0 and stage.max() <= 1, name
    # patch-wise multi-Otsu needs 3 distinct values: a flat window says
    # "no crack", so the threshold branch, and with it the label, is empty
    assert not result.stages['threshold'].any()
    assert np.isfinite(result.soft).all() and not result.soft.any()
    assert result.label.dtype == np.uint8 and not result.label.any()
    assert not result.keep
