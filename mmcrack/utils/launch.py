"""What ``tools/train.py`` and ``tools/test.py`` share before building a
Runner."""
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


def add_common_arguments(parser) -> None:
    """Options shared by ``tools/train.py`` and ``tools/test.py``:
    ``--device``, ``--data-root``, ``--cfg-options``, ``--launcher``,
    ``--local-rank``."""
    from mmengine.config import DictAction
    parser.add_argument('--device', default='auto', choices=DEVICES)
    parser.add_argument('--data-root', help='override every dataset root')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. key=value a.b=c')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_tool_args(parser):
    """Parse, and export ``LOCAL_RANK`` for launchers that pass
    ``--local-rank``."""
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def load_tool_config(args) -> Config:
    """Config of ``tools/train.py`` / ``tools/test.py`` with their shared
    options applied: ``--launcher``, ``--cfg-options``, ``--data-root``,
    ``--work-dir`` (default ``./work_dirs/<config name>``)."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.data_root:
        set_data_root(cfg, args.data_root)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


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


def build_runner(cfg: Config):
    """The Runner of a config: ``RUNNERS.build`` when it names a
    ``runner_type`` (e.g. ``WeaklySupervisedRunner``), else
    ``Runner.from_cfg`` — as OpenMMLab's own tools do."""
    if 'runner_type' in cfg:
        from mmcrack.registry import RUNNERS
        return RUNNERS.build(cfg)
    from mmengine.runner import Runner
    return Runner.from_cfg(cfg)
