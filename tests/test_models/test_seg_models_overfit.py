"""Each model's small CPU variant fits one tiny synthetic batch."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from seg_model_helpers import (  # noqa: F401
    build_model_fixture,
    crack_batch_fixture,
    load_cfg_fixture,
    one_thread,
)

# loss after 30 steps must be below this fraction of the first step's loss
RATIO = 0.4


@pytest.mark.parametrize(
    'name', ('deepcrack_liu', 'deepcrack_zou', 'oed_b0', 'unet_crack'))
def test_overfit_one_batch(name, build_model, crack_batch):
    model = build_model(name, small=True)
    model.train()
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-2))
    batch = crack_batch(2, 64, 64)
    losses = []
    for _ in range(30):
        log = model.train_step(batch, optim)
        losses.append(float(log['loss'].detach()))
    assert all(torch.isfinite(torch.tensor(losses)))
    first, last = losses[0], min(losses[-3:])
    assert last < RATIO * first, f'{name}: {first:.3f} -> {losses[-3:]}'
