"""Train a segmentation or classification model (mmseg / mmpretrain config).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--device auto|cpu|cuda] [--data-root DIR] [--cfg-options k=v ...]
        [--launcher none|pytorch]

Distributed: tools/dist_train.sh CONFIG NPROC [args] (torchrun). Without a
GPU the processes use gloo (mmcrack/engine/distributed.py).

Killed runs: checkpoints are written atomically (temp file + rename), and
``--resume`` without a path takes the newest *complete* checkpoint of the
work dir, so a run killed at any point (even while saving) resumes. A work
dir that cannot be written stops the tool before the Runner is built.
"""
import argparse
import sys

from mmengine.config import Config

from mmcrack.engine import (
    RNGStateHook,
    init_cpu_distributed,
    shutdown_distributed,
)
from mmcrack.utils.checkpoints import (
    latest_complete_checkpoint,
    make_local_puts_atomic,
)
from mmcrack.utils.file_io import (
    NotWritableError,
    ensure_writable_dir,
    remove_stale_temp_files,
)
from mmcrack.utils.launch import (
    add_common_arguments,
    build_runner,
    load_tool_config,
    parse_tool_args,
    select_device,
)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from CKPT, or from the latest checkpoint in the work '
        'dir when no path is given')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (CUDA)')
    add_common_arguments(parser)
    return parse_tool_args(parser)


def build_cfg(args) -> Config:
    cfg = load_tool_config(args)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        # not mmengine's own lookup, which trusts the last_checkpoint marker
        # even when the run was killed while writing the file it names
        ckpt = latest_complete_checkpoint(cfg.work_dir)
        if ckpt is None:
            print(f'--resume: no complete checkpoint in {cfg.work_dir}, '
                  'training from the start', flush=True)
            cfg.resume, cfg.load_from = False, None
        else:
            cfg.resume, cfg.load_from = True, ckpt
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


def main():
    args = parse_args()
    select_device(args.device)
    cfg = build_cfg(args)
    ensure_writable_dir(cfg.work_dir, 'work dir')
    remove_stale_temp_files(cfg.work_dir)  # of a run killed while saving
    make_local_puts_atomic()
    init_cpu_distributed(args.launcher)
    runner = build_runner(cfg)
    if not any(isinstance(h, RNGStateHook) for h in runner.hooks):
        runner.register_hook(RNGStateHook())  # --resume: same dropout
    runner.train()
    shutdown_distributed()


if __name__ == '__main__':
    try:
        main()
    except NotWritableError as e:
        sys.exit(f'train: error: {e}')
