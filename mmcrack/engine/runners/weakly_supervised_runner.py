"""WeaklySupervisedRunner: a training run that reads no ground-truth mask.

A weakly-supervised config (``configs/_base_/wsv/pseudo_labels.py`` sets
``runner_type='WeaklySupervisedRunner'``) is an ordinary segmentation config
plus ``PseudoLabelHook``. Before the Runner is built,
:func:`prepare_weakly_supervised_cfg` makes it mask-free:

* the training dataset lists **images only**: its ``data_prefix`` loses
  ``seg_map_path`` and it accepts a missing mask folder; ``PseudoLabelHook``
  points it at the pseudo-labels before the first iteration;
* **no validation**: ``val_dataloader`` / ``val_cfg`` / ``val_evaluator`` are
  removed and the checkpoint hook keeps no ``save_best`` — model selection
  by ground truth is not available to a weakly-supervised user, so the run
  ends with its last checkpoint;
* the hook's ``generator``, ``classifier_config``,
  ``classifier_checkpoint``, ``extra_img_dirs`` and ``negative_img_dirs``
  default to the config's top-level variables ``pseudo_label_generator``,
  ``classifier_config``, ``classifier_checkpoint``, ``extra_img_dirs`` and
  ``negative_img_dirs`` (the "parameters that
  often need to be modified" at the top of the wsv layer), so a leaf config
  changes them by assigning the variable.

``tools/train.py`` and ``tools/test.py`` (and any OpenMMLab tool) build it
through ``RUNNERS.build(cfg)`` when ``runner_type`` is set. Testing a
weakly-supervised checkpoint reads the test masks as usual.
"""
import copy

from mmengine.runner import Runner

from mmcrack.registry import RUNNERS

HOOK_TYPES = ('PseudoLabelHook', 'mmcrack.PseudoLabelHook')
#: hook argument -> top-level config variable that fills it when unset
HOOK_ARGS_FROM_CONFIG = dict(
    generator='pseudo_label_generator',
    classifier_config='classifier_config',
    classifier_checkpoint='classifier_checkpoint',
    extra_img_dirs='extra_img_dirs',
    negative_img_dirs='negative_img_dirs')


def _images_only(dataset: dict) -> None:
    """Drop the mask folder of a dataset config (and of nested ones)."""
    if dataset.get('type') == 'ConcatDataset':
        for child in dataset.get('datasets', []):
            _images_only(child)
        return
    if 'dataset' in dataset and isinstance(dataset['dataset'], dict):
        _images_only(dataset['dataset'])  # a wrapper (RepeatDataset ...)
        return
    prefix = dict(dataset.get('data_prefix') or {})
    prefix.pop('seg_map_path', None)
    dataset['data_prefix'] = prefix
    dataset['allow_missing_masks'] = True
    dataset.pop('seg_map_dir', None)


def prepare_weakly_supervised_cfg(cfg):
    """Make a weakly-supervised config mask-free (see the module docstring).

    Args:
        cfg (mmengine.Config): the full config; changed in place.

    Returns:
        the same ``cfg``.
    """
    for hook in cfg.get('custom_hooks') or []:
        if hook.get('type') in HOOK_TYPES:
            for arg, variable in HOOK_ARGS_FROM_CONFIG.items():
                if hook.get(arg) is None and cfg.get(variable) is not None:
                    hook[arg] = copy.deepcopy(cfg[variable])
    if cfg.get('train_dataloader') is not None:
        _images_only(cfg.train_dataloader.dataset)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator'):
        cfg[key] = None
    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint')
    if checkpoint is not None:
        checkpoint['save_best'] = None
    return cfg


@RUNNERS.register_module()
class WeaklySupervisedRunner(Runner):
    """mmengine ``Runner`` for weakly-supervised configs: built from the
    config after :func:`prepare_weakly_supervised_cfg`; training refuses to
    start without a ``PseudoLabelHook``."""

    @classmethod
    def from_cfg(cls, cfg) -> 'WeaklySupervisedRunner':
        return super().from_cfg(prepare_weakly_supervised_cfg(
            copy.deepcopy(cfg)))

    def train(self):
        from mmcrack.engine.hooks import PseudoLabelHook
        if not any(isinstance(h, PseudoLabelHook) for h in self.hooks):
            raise RuntimeError(
                'WeaklySupervisedRunner: the config has no PseudoLabelHook '
                'in custom_hooks, so there is nothing to train on (the '
                'training images have no masks). Inherit '
                'configs/_base_/wsv/pseudo_labels.py.')
        return super().train()
