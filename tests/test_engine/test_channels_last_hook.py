"""ChannelsLastHook: the model runs NHWC, with the same outputs, the same
parameter objects (the optimiser keeps them), and a switch to turn it
off."""
from types import SimpleNamespace

import torch

from mmcrack.engine.hooks import ChannelsLastHook


def _net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1),
                               torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                               torch.nn.Conv2d(8, 2, 3, padding=1))


def test_converts_in_place_with_equal_outputs():
    net = _net().eval()
    x = torch.randn(2, 3, 17, 23)
    expected = net(x)
    params = list(net.parameters())
    ChannelsLastHook().before_run(SimpleNamespace(model=net))
    weight = net[0].weight
    assert weight.is_contiguous(memory_format=torch.channels_last)
    assert not weight.is_contiguous()
    assert all(a is b for a, b in zip(params, net.parameters()))
    out = net(x)
    assert out.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_wrapped_model_and_switch_off(monkeypatch):
    import mmcrack.engine.hooks.channels_last_hook as module
    net = _net()
    ChannelsLastHook(enabled=False).before_run(SimpleNamespace(model=net))
    assert net[0].weight.is_contiguous()
    wrapper = SimpleNamespace(module=net)  # stands in for a DDP wrapper
    monkeypatch.setattr(module, 'is_model_wrapper', lambda m: m is wrapper)
    ChannelsLastHook().before_run(SimpleNamespace(model=wrapper))
    assert net[0].weight.is_contiguous(memory_format=torch.channels_last)
