"""PseudoLabelHook: weakly-supervised training from ``tools/train.py``.

Before the first iteration the hook

1. lists the training images (and any extra unlabelled image folders),
2. generates a pseudo-label for every image that has none yet under the
   current cache key — each rank labels a disjoint shard, then all ranks meet
   at a barrier,
3. applies the keep rule (``min_crack_pixels``) and rebuilds the training
   dataloader so that its masks are the pseudo-labels of the kept images.

The training dataset of a weakly-supervised config needs no mask folder
(``allow_missing_masks=True``); the hook always points it at the
pseudo-labels, so ground-truth masks are never used for training.

Cache layout (``out_dir``, default ``{work_dir}/pseudo_labels``)::

    out_dir/<key>/train/<stem>.png        0/255 labels of the training images
    out_dir/<key>/extra<i>/<stem>.png     labels of extra image folder i
    out_dir/<key>/kept_<group>.txt        stems that pass the keep rule
    out_dir/manifest.json                 key, settings, counts (last run)

``key`` hashes the classifier checkpoint's bytes, the generator settings
and the image list (paths, sizes, mtimes): a second run with the same key
generates nothing; a different key writes a new folder, so old labels are
never mixed in. Every file is written atomically (temp + rename), so a run
killed midway resumes with only the missing images.
"""
import copy
import hashlib
import json
import os
import os.path as osp
import time
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.dist import barrier, get_dist_info, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.utils import ProgressBar

from mmcrack.pseudo_label import generator as _generator  # noqa: F401
from mmcrack.registry import HOOKS, TASK_UTILS
from mmcrack.utils.file_io import (
    IMG_EXTENSIONS,
    atomic_write_bytes,
    atomic_write_image,
    atomic_write_json,
    list_stems,
    read_image,
)

MAIN_GROUP = 'train'


def file_sha256(path: str, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def cache_key(checkpoint_sha: str, settings: dict,
              images: Sequence[Tuple[str, str, str]]) -> str:
    """Hex key of (checkpoint bytes, generator settings, image list).

    Args:
        checkpoint_sha: :func:`file_sha256` of the classifier checkpoint.
        settings: JSON-serialisable generator settings (device excluded).
        images: ``(group, stem, path)`` per image; each file's size and
            mtime enter the key too.
    """
    digest = hashlib.sha256()
    digest.update(checkpoint_sha.encode())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for group, stem, path in images:
        st = os.stat(path)
        digest.update(f'{group}/{stem}|{osp.abspath(path)}|{st.st_size}|'
                      f'{st.st_mtime_ns}\n'.encode())
    return digest.hexdigest()[:16]


def count_crack_pixels(label_path: str) -> int:
    """Crack pixels (value >= 128) of a 0/255 label PNG."""
    label = cv2.imread(label_path, cv2.IMREAD_GRAYSCALE)
    if label is None:
        raise ValueError(f'{label_path}: unreadable pseudo-label')
    return int((label >= 128).sum())


@HOOKS.register_module()
class PseudoLabelHook(Hook):
    """Generate pseudo-labels before training and train on them.

    Args:
        generator (dict): config of the pseudo-label generator, built from
            mmengine's ``TASK_UTILS`` registry with ``device`` set to the
            model's device (e.g. ``dict(type='PseudoLabelGenerator',
            classifier_config=..., classifier_checkpoint=..., ...)``). The
            built object must be callable on an RGB uint8 (H, W, 3) image
            returning an object with a ``label`` attribute (uint8 (H, W),
            0/1), and expose ``checkpoint_path`` and ``settings()`` (a
            JSON-serialisable dict) for the cache key.
        out_dir (str, optional): cache folder; default
            ``{work_dir}/pseudo_labels``.
        min_crack_pixels (int): keep rule — an image trains only if its
            pseudo-label has at least this many crack pixels (paper: 100).
        extra_img_dirs (Sequence[str]): folders of unlabelled images to
            pseudo-label and add to training (semi-supervised variant, paper
            Table V).
        classifier_config, classifier_checkpoint (str, optional): set into
            ``generator`` (so a preset such as
            ``configs/_base_/pseudo_label/paper.py`` can be used as is).
    """
    priority = 'VERY_HIGH'

    def __init__(self,
                 generator: dict,
                 out_dir: Optional[str] = None,
                 min_crack_pixels: int = 100,
                 extra_img_dirs: Sequence[str] = (),
                 classifier_config: Optional[str] = None,
                 classifier_checkpoint: Optional[str] = None):
        if not isinstance(generator, dict) or 'type' not in generator:
            raise TypeError('PseudoLabelHook: `generator` must be a config '
                            "dict with a 'type'")
        self.generator_cfg = copy.deepcopy(dict(generator))
        for key, value in (('classifier_config', classifier_config),
                           ('classifier_checkpoint', classifier_checkpoint)):
            if value is not None:
                self.generator_cfg[key] = value
        ckpt = self.generator_cfg.get('classifier_checkpoint')
        if ckpt is not None and not osp.isfile(ckpt):
            raise FileNotFoundError(
                f'PseudoLabelHook: classifier checkpoint not found: {ckpt}. '
                'Train the crack-patch classifier first (tools/train.py '
                f"{self.generator_cfg.get('classifier_config', 'CONFIG')}), "
                'or set custom_hooks.0.classifier_checkpoint')
        self.out_dir = out_dir
        self.min_crack_pixels = int(min_crack_pixels)
        self.extra_img_dirs = list(extra_img_dirs)
        self.stats = {}

    # -- steps ---------------------------------------------------------------
    def _list_images(self, dataset) -> List[Tuple[str, str, str]]:
        images = []
        for i in range(len(dataset)):
            path = dataset.get_data_info(i)['img_path']
            images.append(
                (MAIN_GROUP, osp.splitext(osp.basename(path))[0], path))
        for i, folder in enumerate(self.extra_img_dirs):
            files = list_stems(folder, IMG_EXTENSIONS)
            if not files:
                raise ValueError(f'PseudoLabelHook: no images in extra '
                                 f'folder {folder}')
            images += [(f'extra{i}', stem, path)
                       for stem, path in sorted(files.items())]
        return images

    def _build_generator(self, runner):
        model = runner.model.module if hasattr(runner.model,
                                               'module') else runner.model
        device = next(model.parameters()).device
        return TASK_UTILS.build(self.generator_cfg,
                                default_args=dict(device=str(device)))

    def _generate(self, generator, todo, label_dir, show_progress):
        bar = ProgressBar(len(todo)) if show_progress and todo else None
        for group, stem, path in todo:
            result = generator(read_image(path, 'color'))
            label = np.asarray(result.label, dtype=np.uint8)
            atomic_write_image(
                osp.join(label_dir, group, stem + '.png'), label * 255)
            if bar is not None:
                bar.update()
        if bar is not None:
            print_log('', logger='current')

    def _rebuild_dataloader(self, runner, label_dir, kept):
        loop = runner.train_loop
        loader_cfg = copy.deepcopy(runner.cfg.train_dataloader)
        ds_cfg = loader_cfg['dataset']
        if ds_cfg.get('type') not in ('CrackSegDataset',
                                      'mmseg.CrackSegDataset'):
            raise TypeError(
                'PseudoLabelHook needs train_dataloader.dataset of type '
                f"CrackSegDataset, got {ds_cfg.get('type')!r}")

        def redirect(cfg, group):
            cfg.update(
                seg_map_dir=osp.abspath(osp.join(label_dir, group)),
                ann_file=osp.abspath(
                    osp.join(label_dir, f'kept_{group}.txt')),
                allow_missing_masks=False,
                check_files=False)
            return cfg

        datasets = []
        if kept[MAIN_GROUP]:
            datasets.append(redirect(copy.deepcopy(ds_cfg), MAIN_GROUP))
        for i, folder in enumerate(self.extra_img_dirs):
            group = f'extra{i}'
            if not kept[group]:
                continue
            extra = copy.deepcopy(ds_cfg)
            extra.update(data_root=None,
                         data_prefix=dict(img_path=osp.abspath(folder)))
            datasets.append(redirect(extra, group))
        loader_cfg['dataset'] = datasets[0] if len(datasets) == 1 else dict(
            type='ConcatDataset', datasets=datasets)
        dataloader = runner.build_dataloader(
            loader_cfg,
            seed=runner.seed,
            diff_rank_seed=runner._randomness_cfg.get('diff_rank_seed',
                                                      False))
        loop.dataloader = dataloader
        from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
        from mmengine.runner.loops import _InfiniteDataloaderIterator
        if isinstance(loop, IterBasedTrainLoop):
            loop.dataloader_iterator = _InfiniteDataloaderIterator(dataloader)
        elif isinstance(loop, EpochBasedTrainLoop):
            loop._max_iters = loop._max_epochs * len(dataloader)
        else:
            print_log(
                f'PseudoLabelHook: unknown train loop {type(loop).__name__}: '
                'its dataloader was replaced, nothing else was adjusted',
                logger='current', level=30)

    # -- hook ----------------------------------------------------------------
    def before_train(self, runner) -> None:
        start = time.time()
        out_dir = self.out_dir or osp.join(runner.work_dir, 'pseudo_labels')
        dataset = runner.train_loop.dataloader.dataset
        images = self._list_images(dataset)
        generator = self._build_generator(runner)
        ckpt = getattr(generator, 'checkpoint_path', None)
        key = cache_key(
            file_sha256(ckpt) if ckpt else '', generator.settings(), images)
        label_dir = osp.join(out_dir, key)
        todo = [
            img for img in images
            if not osp.isfile(osp.join(label_dir, img[0], img[1] + '.png'))
        ]
        # every rank lists the missing labels before any rank writes one,
        # else the shards would be cut from different lists
        barrier()
        rank, world_size = get_dist_info()
        mine = todo[rank::world_size]
        print_log(
            f'PseudoLabelHook: {len(images)} images, {len(images) - len(todo)}'
            f' labels reused from {label_dir}, {len(todo)} to generate'
            + (f' ({len(mine)} on this rank)' if world_size > 1 else ''),
            logger='current')
        gen_start = time.time()
        self._generate(generator, mine, label_dir, is_main_process())
        gen_time = time.time() - gen_start
        del generator
        barrier()

        groups = [MAIN_GROUP] + [f'extra{i}'
                                 for i in range(len(self.extra_img_dirs))]
        kept = {g: [] for g in groups}
        dropped = 0
        for group, stem, _ in images:
            n = count_crack_pixels(osp.join(label_dir, group, stem + '.png'))
            if n >= self.min_crack_pixels:
                kept[group].append(stem)
            else:
                dropped += 1
        n_kept = sum(len(v) for v in kept.values())
        if n_kept == 0:
            raise RuntimeError(
                f'PseudoLabelHook: no pseudo-label in {label_dir} has '
                f'>= {self.min_crack_pixels} crack pixels; nothing to train '
                'on (check the classifier, or lower min_crack_pixels)')
        if is_main_process():
            for group, stems in kept.items():
                atomic_write_bytes(
                    osp.join(label_dir, f'kept_{group}.txt'),
                    ''.join(s + '\n' for s in stems).encode())
            self.stats = dict(
                key=key,
                label_dir=osp.abspath(label_dir),
                images=len(images),
                generated=len(todo),
                reused=len(images) - len(todo),
                kept=n_kept,
                dropped=dropped,
                min_crack_pixels=self.min_crack_pixels,
                generation_seconds=round(gen_time, 3),
                settings=json.loads(
                    json.dumps(self.generator_cfg, default=str)))
            atomic_write_json(osp.join(out_dir, 'manifest.json'), self.stats)
        barrier()
        self._rebuild_dataloader(runner, label_dir, kept)
        rate = len(mine) / gen_time if mine and gen_time > 0 else 0.0
        print_log(
            f'PseudoLabelHook: kept {n_kept}, dropped {dropped} '
            f'(< {self.min_crack_pixels} crack px), generated {len(todo)}, '
            f'reused {len(images) - len(todo)}; {rate:.2f} labels/s on this '
            f'rank; {time.time() - start:.1f} s in all',
            logger='current')
