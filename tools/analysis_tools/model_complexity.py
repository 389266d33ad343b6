"""Parameters and FLOPs of mmcrack / mmseg segmentation models.

Usage::

    python tools/analysis_tools/model_complexity.py CONFIG [CONFIG ...] \
        --shape 384 544 [--cfg-options k=v ...]

Prints one Markdown table row per config: parameters (all of them,
including deep-supervision branches that only run in training) and the
FLOPs of one inference forward pass (``mode='tensor'``: backbone + head
main output, batch 1) counted by ``mmengine.analysis`` — fvcore's
convention, **one multiply-add counts as one FLOP** (so these are GMACs;
double them for "2 x MAC" FLOPs). Pretrained-weight loading is switched off
(the architecture is the same).
"""
import argparse
import logging

import torch
from mmengine import Config, DictAction
from mmengine.analysis import get_model_complexity_info
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope


def _drop_pretrained(cfg):
    """Remove Pretrained init_cfg entries anywhere in the model config."""
    if isinstance(cfg, dict):
        init = cfg.get('init_cfg')
        if isinstance(init, dict) and init.get('type') == 'Pretrained':
            cfg['init_cfg'] = None
        for v in cfg.values():
            _drop_pretrained(v)
    elif isinstance(cfg, (list, tuple)):
        for v in cfg:
            _drop_pretrained(v)


def complexity(config: str, shape=(384, 544), cfg_options=None) -> dict:
    """Return ``dict(params=..., flops=...)`` of a config's model."""
    from mmseg.registry import MODELS

    import mmcrack.models  # noqa: F401  (registers the modules)

    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') \
        else dict(cfg.model)
    _drop_pretrained(model_cfg)
    model = MODELS.build(model_cfg)
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    x = torch.zeros(1, 3, *shape)
    with torch.no_grad():
        info = get_model_complexity_info(
            model, inputs=(x, ), show_table=False, show_arch=False)
    return dict(params=params, flops=info['flops'])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--shape', type=int, nargs=2, default=[384, 544],
                        metavar=('H', 'W'))
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument(
        '--verbose', action='store_true',
        help='keep the analyser warnings (modules not called in inference)')
    args = parser.parse_args()
    if not args.verbose:
        MMLogger.get_current_instance().setLevel(logging.ERROR)
    h, w = args.shape
    print(f'| config | params (M) | GFLOPs @ {h}x{w} (1 MAC = 1 FLOP) |')
    print('|---|---:|---:|')
    for config in args.configs:
        r = complexity(config, (h, w), args.cfg_options)
        print(f'| {config} | {r["params"] / 1e6:.2f} | '
              f'{r["flops"] / 1e9:.1f} |', flush=True)


if __name__ == '__main__':
    main()
