"""Shared helpers of the model tests.

``build_model(name, small=False, seed=0, **cfg_options)`` builds a segmentor
from ``configs/_base_/models/{name}.py``; ``crack_batch(n, h, w)`` makes a
synthetic dataloader batch; ``load_cfg`` loads a config. Test modules import
:data:`FIXTURES` names (fixtures of the same helpers, plus the autouse
one-thread fixture). Not a ``conftest.py``: the suite's modules do
``from conftest import ...``, which a second conftest would shadow.
"""
import os.path as osp

import pytest
import torch
from mmengine import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmcrack.models  # noqa: F401  (registers the modules)

CONFIG_DIR = osp.join(
    osp.dirname(__file__), '..', '..', 'configs', '_base_', 'models')
# Narrow variants for CPU tests: same architecture, fewer channels.
SMALL = {
    'deepcrack_liu': {
        'model.backbone.base_channels': 8,
        'model.decode_head.in_channels': (8, 16, 32, 64, 64),
    },
    'deepcrack_zou': {
        'model.backbone.base_channels': 8,
        'model.decode_head.in_channels': (16, 24, 48, 96, 128),
    },
    'oed_b0': {
        'model.decode_head.decoder_channels': (32, 16, 16, 8, 8),
    },
    'unet_crack': {
        'model.backbone.base_channels': 8,
        'model.decode_head.in_channels': 8,
        'model.decode_head.channels': 8,
    },
}


def load_cfg(name: str, small: bool = False, **options) -> Config:
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'{name}.py'))
    if name.startswith('oed'):
        # no download in tests; the architecture is the same
        cfg.model.backbone.encoder.init_cfg = None
    if small:
        cfg.merge_from_dict(SMALL[name])
    if options:
        cfg.merge_from_dict(options)
    return cfg


def build_model(name: str, small: bool = False, seed: int = 0, **options):
    """Build (and initialise) a segmentor from a _base_ model config."""
    init_default_scope('mmseg')
    torch.manual_seed(seed)
    model = MODELS.build(load_cfg(name, small, **options).model)
    model.init_weights()
    return model


def crack_batch(n: int, h: int, w: int, seed: int = 0):
    """A synthetic batch: dark thin lines on noisy bright images.

    Returns the dataloader-style dict (uint8 BGR images, data samples with
    0/1 ``gt_sem_seg``) that the data preprocessor takes.
    """
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(n):
        mask = torch.zeros(h, w, dtype=torch.long)
        for _ in range(2):
            if torch.rand(1, generator=g) < 0.5:
                r = int(torch.randint(2, h - 3, (1, ), generator=g))
                mask[r:r + 2, :] = 1
            else:
                c = int(torch.randint(2, w - 3, (1, ), generator=g))
                mask[:, c:c + 2] = 1
        img = 170 + 30 * torch.randn(3, h, w, generator=g)
        img = img - 110 * mask[None].float()
        inputs.append(img.clamp(0, 255).to(torch.uint8))
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=mask[None])
        sample.set_metainfo(dict(img_shape=(h, w), ori_shape=(h, w)))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


@pytest.fixture(name='build_model')
def build_model_fixture():
    return build_model


@pytest.fixture(name='crack_batch')
def crack_batch_fixture():
    return crack_batch


@pytest.fixture(name='load_cfg')
def load_cfg_fixture():
    return load_cfg


@pytest.fixture(autouse=True)
def one_thread():
    # The tensors here are small and the cores shared: intra-op threads
    # only contend (measured 10-50x slower with 2 threads under load).
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


FIXTURES = ('build_model_fixture', 'crack_batch_fixture', 'load_cfg_fixture',
            'one_thread')
