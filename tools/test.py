"""Evaluate a checkpoint on a config's test set.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
        [--show-dir DIR] [--device auto|cpu|cuda] [--data-root DIR]
        [--cfg-options k=v ...] [--launcher none|pytorch]

Distributed: tools/dist_test.sh CONFIG CHECKPOINT NPROC [args].
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config

from mmcrack.engine import init_cpu_distributed, shutdown_distributed
from mmcrack.utils.checkpoints import make_local_puts_atomic
from mmcrack.utils.file_io import (
    NotWritableError,
    ensure_writable_dir,
)
from mmcrack.utils.launch import (
    add_common_arguments,
    build_runner,
    load_tool_config,
    parse_tool_args,
    select_device,
)


def parse_args():
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and metrics go')
    parser.add_argument('--out', help='segmentation: write predicted maps '
                        'to this folder')
    parser.add_argument('--show-dir', help='segmentation: write '
                        'visualisations to this folder')
    add_common_arguments(parser)
    return parse_tool_args(parser)


def build_cfg(args) -> Config:
    cfg = load_tool_config(args)
    cfg.load_from = args.checkpoint
    if args.show_dir or args.out:
        vis = cfg.default_hooks.get('visualization')
        if vis is None:
            raise ValueError('--show-dir/--out need a visualization hook in '
                             'default_hooks (segmentation configs have one)')
        if args.show_dir:
            vis.update(draw=True, interval=1)
            cfg.visualizer.save_dir = args.show_dir
    if args.out:
        cfg.test_evaluator = cfg.test_evaluator if isinstance(
            cfg.test_evaluator, list) else [cfg.test_evaluator]
        cfg.test_evaluator.append(
            dict(type='DumpResults', out_file_path=osp.join(
                args.out, 'results.pkl')))
    return cfg


def main():
    args = parse_args()
    select_device(args.device)
    cfg = build_cfg(args)
    # folders we cannot write stop the tool before the model is built
    for folder, what in ((cfg.work_dir, 'work dir'),
                         (args.out, '--out folder'),
                         (args.show_dir, '--show-dir folder')):
        if folder:
            ensure_writable_dir(folder, what)
    make_local_puts_atomic()
    init_cpu_distributed(args.launcher)
    runner = build_runner(cfg)
    runner.test()
    shutdown_distributed()


if __name__ == '__main__':
    try:
        main()
    except NotWritableError as e:
        sys.exit(f'test: error: {e}')
