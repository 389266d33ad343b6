"""What ``tools/train.py`` and ``tools/test.py`` share before building a Runner."""
import os
import os.path as osp

from mmengine.config import Config

DEVICES = ('auto', 'cpu', 'cuda')


def select_device(device: str) -> None:
    """Honour ``--device``: ``cpu`` hides GPUs from this process.

    Must run before CUDA is initialised (i.e. before the Runner is built).
    ``auto`` and ``cuda`` leave mmengine's choice (CUDA when available);
    ``cuda`` fails early when there is none.
    """
    if device not in DEVICES:
        raise ValueError(f'--device must be one of {DEVICES}, got {device!r}')
    if device == 'cpu':
        os.environ['CUDA_VISIBLE_DEVICES'] = ''
    elif device == 'cuda':
        import torch
        if not torch.cuda.is_available():
            raise RuntimeError('--device cuda given but CUDA is not available')


def set_data_root(cfg: Config, data_root: str) -> None:
    """Point every dataloader's dataset (and nested datasets) at
    ``data_root``."""
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'--data-root: folder not found: {data_root}')

    def visit(dataset):
        if dataset is None:
            return
        if 'data_root' in dataset:
            dataset['data_root'] = data_root
        for child in dataset.get('datasets', []):
            visit(child)
        visit(dataset.get('dataset'))

    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key) is not None:
            visit(cfg[key].get('dataset'))
