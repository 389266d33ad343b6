"""Pseudo-label generator presets: the one place the settings are written.

A preset is an mmengine config file that defines ``pseudo_label_generator``
(``configs/_base_/pseudo_label/<name>.py``): ``paper.py`` spells out every
setting with the paper's values, the other presets are deltas on it. The
generator classes take their defaults from a preset (``paper`` unless told
otherwise), the weakly-supervised configs inherit them, and
``tools/generate_pseudo_labels.py --preset NAME`` reads them — so a value is
changed in one file only.
"""
import copy
import os
import os.path as osp
from typing import Optional

from mmcrack.utils.source_tree import CONFIG_DIR

#: Folder of the shipped presets (in the source checkout that mmcrack is
#: installed from, ``pip install -e .``).
PRESET_DIR = osp.join(CONFIG_DIR, '_base_', 'pseudo_label')

#: Keys of ``pseudo_label_generator`` that are not generator settings (the
#: labels do not depend on them).
NON_SETTING_KEYS = ('type', 'classifier_config', 'classifier_checkpoint',
                    'device', 'localization_cache')


def preset_path(preset: str) -> str:
    """The file of a preset: a shipped name (``'paper'``) or a ``.py`` path.

    Raises:
        FileNotFoundError: naming the file, and the shipped presets.
    """
    path = preset if preset.endswith('.py') else osp.join(
        PRESET_DIR, f'{preset}.py')
    if not osp.isfile(path):
        names = os.listdir(PRESET_DIR) if osp.isdir(PRESET_DIR) else []
        shipped = sorted(n[:-3] for n in names if n.endswith('.py'))
        raise FileNotFoundError(
            f'pseudo-label preset not found: {path} (shipped presets in '
            f'{PRESET_DIR}: {", ".join(shipped) or "none"})')
    return path


def load_preset_config(preset: str = 'paper',
                       options: Optional[dict] = None) -> dict:
    """``pseudo_label_generator`` of a preset as a plain dict (with its
    ``type``), with ``key.sub=value`` overrides.

    Args:
        preset: a shipped preset name or a config file defining
            ``pseudo_label_generator``.
        options: dotted overrides as ``--cfg-options`` gives them, e.g.
            ``{'threshold.d': 5, 'output.threshold': 0.3}``.

    Raises:
        KeyError: an override names an unknown setting.
    """
    from mmengine.config import Config
    path = preset_path(preset)
    cfg = Config.fromfile(path)
    if 'pseudo_label_generator' not in cfg:
        raise KeyError(f'{path} defines no pseudo_label_generator')
    overrides = {}
    for dotted, value in (options or {}).items():
        node = overrides
        *parents, leaf = dotted.split('.')
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return merge_settings(cfg.pseudo_label_generator.to_dict(), overrides)


def load_preset(preset: str = 'paper',
                options: Optional[dict] = None) -> dict:
    """The generator settings of a preset (:func:`load_preset_config`
    without ``type`` and classifier paths)."""
    return strip_non_settings(load_preset_config(preset, options))


def build_generator(cfg: dict, device: str = 'cpu', **paths):
    """Build a generator from a ``pseudo_label_generator`` dict.

    Args:
        cfg: the dict (its ``type`` names a class in ``TASK_UTILS``).
        device: ``'cpu'``, ``'cuda'``, ...
        paths: ``classifier_config`` / ``classifier_checkpoint`` /
            ``localization_cache`` set into ``cfg`` when given.
    """
    from mmcrack.registry import TASK_UTILS
    cfg = copy.deepcopy(dict(cfg))
    cfg.update({k: v for k, v in paths.items() if v is not None})
    if cfg.get('localization_cache') is not None and \
            not keeps_localization_cache(cfg):
        raise ValueError(
            f"localization_cache: the {cfg.get('type')} generator keeps no "
            'localisation cache (only generators with a localization_cache '
            'argument, such as PseudoLabelGenerator, do); label without it')
    return TASK_UTILS.build(cfg, default_args=dict(device=device))


def keeps_localization_cache(cfg: dict) -> bool:
    """Whether the generator type of a ``pseudo_label_generator`` dict
    takes a ``localization_cache`` folder (its classifier maps kept on
    disk; :class:`~.localization_cache.LocalizationCache`)."""
    import inspect

    from mmcrack.registry import TASK_UTILS
    cls = TASK_UTILS.get(cfg.get('type'))
    if cls is None:
        raise KeyError(f"pseudo-label generator type {cfg.get('type')!r} is "
                       'not registered in TASK_UTILS')
    return 'localization_cache' in inspect.signature(cls).parameters


def strip_non_settings(cfg: dict) -> dict:
    """A ``pseudo_label_generator`` dict without ``type``, classifier paths
    and device."""
    return {k: copy.deepcopy(v) for k, v in cfg.items()
            if k not in NON_SETTING_KEYS}


def merge_settings(defaults: dict, overrides: dict, where: str = '') -> dict:
    """``defaults`` updated field by field with ``overrides``.

    Args:
        defaults: complete settings (nested dicts by step).
        overrides: a subset of the same keys.
        where: prefix of the key path, for messages.

    Raises:
        KeyError: a key of ``overrides`` is not in ``defaults`` (the message
            names it and lists the known keys).
        TypeError: a step given as a non-dict.
    """
    out = copy.deepcopy(defaults)
    for key, value in overrides.items():
        if key not in defaults:
            raise KeyError(f'pseudo-label generator: unknown setting '
                           f"'{where}{key}'; known: {sorted(defaults)}")
        if isinstance(defaults[key], dict):
            if not isinstance(value, dict):
                raise TypeError(f'pseudo-label generator: {where}{key} must '
                                f'be a dict, got {value!r}')
            out[key] = merge_settings(defaults[key], value, f'{where}{key}.')
        else:
            out[key] = copy.deepcopy(value)
    return out
