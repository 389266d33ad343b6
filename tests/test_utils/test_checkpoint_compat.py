"""mmengine checkpoints load on torch >= 2.6, without patching torch.load."""
import numpy as np
import pytest
import torch


def _checkpoint(path):
    from mmengine.logging import HistoryBuffer
    buf = HistoryBuffer()
    buf.update(np.float64(0.5))
    torch.save(dict(state_dict={'w': torch.ones(2)},
                    meta=dict(seed=np.int64(3), hist=buf)), path)


def test_mmengine_loader_reads_full_checkpoint(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint

    import mmcrack  # noqa: F401  (registers the trusted local loader)
    path = str(tmp_path / 'c.pth')
    _checkpoint(path)
    ckpt = _load_checkpoint(path, map_location='cpu')
    assert ckpt['meta']['seed'] == 3
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2))


def test_torch_load_itself_is_untouched(tmp_path):
    import mmcrack  # noqa: F401
    path = str(tmp_path / 'c.pth')
    _checkpoint(path)
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(path)


def test_missing_file_message(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint

    import mmcrack  # noqa: F401
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        _load_checkpoint(str(tmp_path / 'nope.pth'))
