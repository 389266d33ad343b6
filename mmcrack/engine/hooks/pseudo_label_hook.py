"""PseudoLabelHook: weakly-supervised training from ``tools/train.py``.

Before the first iteration the hook

1. lists the training images (and any extra unlabelled image folders),
2. generates a pseudo-label for every image that has none yet under the
   current cache key — each rank labels a disjoint shard, then all ranks meet
   at a barrier,
3. applies the generator's keep rule (``output.min_crack_pixels`` of its
   settings) and rebuilds the training dataloader so that its masks are the
   pseudo-labels of the kept images.

Labelling is :func:`mmcrack.pseudo_label.label_folder.label_images`, the
same function as ``tools/generate_pseudo_labels.py``, so the hook and the
CLI store the same labels and keep the same images for the same settings.
The hook trains on binary labels: a generator whose ``output.binarize`` is
False (a soft map, e.g. the ``published_code`` preset) is refused with a
message; set ``output.binarize=True`` to train on it.

The training dataset of a weakly-supervised config lists images only
(``WeaklySupervisedRunner``, set by ``configs/_base_/wsv/``, makes it so);
the hook always points it at the pseudo-labels, so ground-truth masks are
never used for training.

Cache layout (``out_dir``, default ``{work_dir}/pseudo_labels``)::

    out_dir/<key>/train/<stem>.png        0/255 labels of the training images
    out_dir/<key>/extra<i>/<stem>.png     labels of extra image folder i
    out_dir/<key>/negative<i>/<stem>.png  empty labels of known negatives
    out_dir/<key>/kept_<group>.txt        stems that pass the keep rule
    out_dir/manifest.json                 key, settings, counts (last run)

``key`` hashes the classifier checkpoint's bytes, the generator settings
and the image list (paths, sizes, mtimes): a second run with the same key
generates nothing; a different key writes a new folder, so old labels are
never mixed in. Every file is written atomically (temp + rename), so a run
killed midway resumes with only the missing images.
"""
import copy
import json
import os.path as osp
import time
from typing import List, Optional, Sequence

import numpy as np
from mmengine.dist import barrier, get_dist_info, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmcrack.pseudo_label.label_folder import (
    LabelItem,
    cache_key,
    file_sha256,
    folder_items,
    label_images,
    label_path,
)
from mmcrack.pseudo_label.presets import build_generator
from mmcrack.registry import HOOKS
from mmcrack.utils.file_io import (
    atomic_write_bytes,
    atomic_write_image,
    atomic_write_json,
    read_image,
)

MAIN_GROUP = 'train'
NEGATIVE = 'negative'


def write_empty_labels(items: Sequence[LabelItem], label_dir: str) -> None:
    """An all-background 0/255 label (the image's size) for each known
    negative that has none yet."""
    for item in items:
        path = label_path(label_dir, item)
        if not osp.isfile(path):
            h, w = read_image(item.path, 'grayscale').shape
            atomic_write_image(path, np.zeros((h, w), np.uint8))


def _refuse_soft_labels(binarize: bool) -> None:
    """The hook trains on binary labels: a soft output is refused."""
    if binarize is False:
        raise ValueError(
            'PseudoLabelHook trains on binary pseudo-labels, but the '
            'generator settings have output.binarize=False (a soft map, as '
            'in the published_code preset). Set output.binarize=True (and '
            'output.threshold) to train on that preset, or use '
            'tools/generate_pseudo_labels.py to write the soft maps.')


@HOOKS.register_module()
class PseudoLabelHook(Hook):
    """Generate pseudo-labels before training and train on them.

    Args:
        generator (dict): config of the pseudo-label generator, built from
            the ``TASK_UTILS`` registry with ``device`` set to the model's
            device (a preset's ``pseudo_label_generator``,
            ``configs/_base_/pseudo_label/*.py``; in the wsv layer
            ``WeaklySupervisedRunner`` fills it from the config's top-level
            ``pseudo_label_generator``). The built object is
            called as ``generator(img, return_stages=False, name=path)`` on
            an RGB uint8 (H, W, 3) image and returns an object with
            ``soft`` and ``label`` (uint8 (H, W), 0/1); it exposes
            ``output`` (:class:`~mmcrack.pseudo_label.LabelOutput`: label
            format and keep rule), ``checkpoint_path`` and ``settings()``
            (a JSON-serialisable dict) for the cache key.
        out_dir (str, optional): cache folder; default
            ``{work_dir}/pseudo_labels``.
        extra_img_dirs (Sequence[str]): folders of unlabelled images to
            pseudo-label and add to training (semi-supervised variant, paper
            Table V).
        negative_img_dirs (Sequence[str]): folders of images known to hold
            no crack (e.g. the images labelled ``no_crack``): they train
            with an empty mask, are not pseudo-labelled and pass the keep
            rule — hard negatives (stains, joints, shadows). Empty (the
            paper) by default.
        classifier_config, classifier_checkpoint (str, optional): set into
            ``generator``. ``WeaklySupervisedRunner`` fills them from the
            config's top-level ``classifier_config`` /
            ``classifier_checkpoint`` (the parameters at the top of
            ``configs/_base_/wsv/pseudo_labels.py``).
    """
    priority = 'VERY_HIGH'

    def __init__(self,
                 generator: dict,
                 out_dir: Optional[str] = None,
                 extra_img_dirs: Sequence[str] = (),
                 negative_img_dirs: Sequence[str] = (),
                 classifier_config: Optional[str] = None,
                 classifier_checkpoint: Optional[str] = None):
        if not isinstance(generator, dict) or 'type' not in generator:
            raise TypeError('PseudoLabelHook: `generator` must be a config '
                            "dict with a 'type'")
        self.generator_cfg = copy.deepcopy(dict(generator))
        self.classifier_paths = dict(
            classifier_config=classifier_config,
            classifier_checkpoint=classifier_checkpoint)
        # settings given in the config are checked now, a preset named by
        # the generator when it is built (before_train)
        _refuse_soft_labels(
            self.generator_cfg.get('output', {}).get('binarize', True))
        self.out_dir = out_dir
        self.extra_img_dirs = list(extra_img_dirs)
        self.negative_img_dirs = list(negative_img_dirs)
        self.stats = {}

    # -- steps ---------------------------------------------------------------
    def _list_images(self, dataset) -> List[LabelItem]:
        items = []
        for i in range(len(dataset)):
            path = dataset.get_data_info(i)['img_path']
            stem = osp.splitext(osp.basename(path))[0]
            items.append(LabelItem(f'{MAIN_GROUP}/{stem}', path))
        for group, folder in self._groups()[1:]:
            try:
                extra = folder_items(folder)
            except (ValueError, FileNotFoundError) as e:
                raise ValueError(f'PseudoLabelHook: {group} ({folder}): '
                                 f'{e}') from None
            items += [LabelItem(f'{group}/{it.name}', it.path)
                      for it in extra]
        return items

    def _groups(self):
        """(group, folder) of the training images (folder None) and of
        every extra and negative folder."""
        return ([(MAIN_GROUP, None)] +
                [(f'extra{i}', d) for i, d in enumerate(self.extra_img_dirs)]
                + [(f'{NEGATIVE}{i}', d)
                   for i, d in enumerate(self.negative_img_dirs)])

    def _build_generator(self, runner):
        ckpt = self.classifier_paths['classifier_checkpoint'] or \
            self.generator_cfg.get('classifier_checkpoint')
        if ckpt is not None and not osp.isfile(ckpt):
            config = self.classifier_paths['classifier_config'] or \
                self.generator_cfg.get('classifier_config', 'CONFIG')
            raise FileNotFoundError(
                f'PseudoLabelHook: classifier checkpoint not found: {ckpt}. '
                f'Train the crack-patch classifier first (tools/train.py '
                f'{config}), or set classifier_checkpoint in the config '
                '(or --cfg-options classifier_checkpoint=PATH)')
        model = runner.model.module if hasattr(runner.model,
                                               'module') else runner.model
        device = next(model.parameters()).device
        return build_generator(self.generator_cfg, str(device),
                               **self.classifier_paths)

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
        for group, folder in self._groups()[1:]:
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
        items = self._list_images(dataset)
        generator = self._build_generator(runner)
        _refuse_soft_labels(generator.output.binarize)
        ckpt = getattr(generator, 'checkpoint_path', None)
        key = cache_key(
            file_sha256(ckpt) if ckpt else '', generator.settings(), items)
        label_dir = osp.join(out_dir, key)
        negatives = [it for it in items if it.name.startswith(NEGATIVE)]
        items = [it for it in items if not it.name.startswith(NEGATIVE)]
        todo = [it for it in items
                if not osp.isfile(label_path(label_dir, it))]
        # every rank lists the missing labels before any rank writes one,
        # else the shards would be cut from different lists
        barrier()
        rank, world_size = get_dist_info()
        mine = todo[rank::world_size]
        print_log(
            f'PseudoLabelHook: {len(items)} images, {len(items) - len(todo)}'
            f' labels reused from {label_dir}, {len(todo)} to generate'
            + (f' ({len(mine)} on this rank)' if world_size > 1 else ''),
            logger='current')
        made = label_images(generator, mine, label_dir,
                            progress=is_main_process())
        if is_main_process():
            write_empty_labels(negatives, label_dir)
        barrier()
        # every label now exists: this pass only reads them back
        summary = label_images(generator, items, label_dir, progress=False)
        output = generator.output
        del generator

        kept = {g: [] for g, _ in self._groups()}
        for name in summary.kept + [it.name for it in negatives]:
            group, stem = name.split('/', 1)
            kept[group].append(stem)
        if not summary.kept:
            raise RuntimeError(
                f'PseudoLabelHook: no pseudo-label in {label_dir} has '
                f'>= {output.min_crack_pixels} crack pixels; nothing to '
                'train on (check the classifier, or lower '
                'output.min_crack_pixels in the generator settings)')
        if is_main_process():
            for group, stems in kept.items():
                atomic_write_bytes(
                    osp.join(label_dir, f'kept_{group}.txt'),
                    ''.join(s + '\n' for s in stems).encode())
            self.stats = dict(
                key=key,
                label_dir=osp.abspath(label_dir),
                images=len(items),
                generated=len(todo),
                reused=len(items) - len(todo),
                kept=len(summary.kept),
                dropped=len(summary.dropped),
                negatives=len(negatives),
                min_crack_pixels=output.min_crack_pixels,
                generation_seconds=made.seconds,
                settings=json.loads(
                    json.dumps(self.generator_cfg, default=str)))
            atomic_write_json(osp.join(out_dir, 'manifest.json'), self.stats)
        barrier()
        self._rebuild_dataloader(runner, label_dir, kept)
        rate = made.generated / made.seconds if made.generated and \
            made.seconds > 0 else 0.0
        print_log(
            f'PseudoLabelHook: kept {len(summary.kept)}, dropped '
            f'{len(summary.dropped)} (< {output.min_crack_pixels} crack '
            f'px), generated {len(todo)}, reused {len(items) - len(todo)}; '
            f'{rate:.2f} labels/s on this rank; '
            f'{time.time() - start:.1f} s in all',
            logger='current')
