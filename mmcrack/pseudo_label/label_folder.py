"""Label a list of images with a pseudo-label generator: read, label, write
atomically, apply the keep rule, summarise — the one implementation behind
``tools/generate_pseudo_labels.py`` and ``PseudoLabelHook``.

A label already on disk is reused (its crack pixels are read back), so a
killed run resumes with only the missing images, and a second call over the
same list generates nothing. The label format and the keep rule come from
the generator's ``output`` settings alone (:class:`LabelOutput`).
"""
import hashlib
import json
import os
import os.path as osp
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence

from mmengine.utils import ProgressBar

from mmcrack.utils.file_io import (  # noqa: F401 (file_sha256: re-export)
    IMG_EXTENSIONS,
    atomic_write_bytes,
    atomic_write_image,
    atomic_write_json,
    file_sha256,
    list_stems,
    read_image,
    remove_stale_temp_files,
)

from .generator import as_rgb_uint8
from .label_output import LabelOutput
from .stage_figure import stage_figure

#: Sub-folder of an output folder that holds the stage figures.
STAGES_DIR = 'stages'
#: File of a labels folder naming the checkpoint and settings they came from.
STAMP_NAME = 'labels_key.json'


@dataclass(frozen=True)
class LabelItem:
    """One image to label.

    Args:
        name: output name relative to the output folder, without extension
            (``'stem'``, or ``'group/stem'`` for sub-folders).
        path: the image file.
    """
    name: str
    path: str


@dataclass
class LabelSummary:
    """What :func:`label_images` did.

    Attributes:
        images: number of items.
        generated: labels made in this call.
        reused: labels found on disk.
        kept, dropped: item names that pass / fail the keep rule.
        failed: ``{'image': path, 'error': message}`` of unreadable images
            (with ``skip_bad``).
        crack_pixels: crack pixels of each labelled item.
        seconds: wall time of the call.
    """
    images: int = 0
    generated: int = 0
    reused: int = 0
    kept: List[str] = field(default_factory=list)
    dropped: List[str] = field(default_factory=list)
    failed: List[dict] = field(default_factory=list)
    crack_pixels: Dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def cache_key(checkpoint_sha: str, settings: dict,
              items: Sequence[LabelItem]) -> str:
    """Hex key of (checkpoint bytes, generator settings, image list).

    Args:
        checkpoint_sha: :func:`file_sha256` of the classifier checkpoint.
        settings: JSON-serialisable generator settings (device excluded).
        items: the images (``group/stem`` names and paths); each file's
            size and mtime enter the key too.
    """
    digest = hashlib.sha256()
    digest.update(checkpoint_sha.encode())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for item in items:
        st = os.stat(item.path)
        digest.update(f'{item.name}|{osp.abspath(item.path)}|{st.st_size}|'
                      f'{st.st_mtime_ns}\n'.encode())
    return digest.hexdigest()[:16]


def folder_stamp(out_dir: str, checkpoint: Optional[str], settings: dict,
                 overwrite: bool = False) -> str:
    """Check and write ``out_dir/labels_key.json``: the key of the
    classifier checkpoint's bytes and the generator settings of the labels
    in ``out_dir``, so that a folder never mixes labels of two settings.

    Args:
        out_dir: the labels' folder.
        checkpoint: the classifier checkpoint (None: none).
        settings: the generator's JSON-serialisable settings.
        overwrite: labels of another key are replaced (deleted first)
            instead of refused.

    Returns:
        the key.

    Raises:
        FileExistsError: ``out_dir`` holds labels of another key (the
            message names the folder, both keys and ``--overwrite``).
    """
    key = cache_key(file_sha256(checkpoint) if checkpoint else '', settings,
                    ())
    path = osp.join(out_dir, STAMP_NAME)
    if osp.isfile(path):
        with open(path) as f:
            old = json.load(f)
        if old.get('key') != key:
            if not overwrite:
                raise FileExistsError(
                    f'{out_dir} holds labels made with another classifier '
                    f'checkpoint or other settings (key {old.get("key")}, '
                    f'now {key}; {path}): use another output folder, or '
                    '--overwrite to replace them')
            for name in os.listdir(out_dir):
                if name.endswith('.png'):
                    os.remove(osp.join(out_dir, name))
            stages = osp.join(out_dir, STAGES_DIR)
            if osp.isdir(stages):
                for name in os.listdir(stages):
                    os.remove(osp.join(stages, name))
    atomic_write_json(path, dict(key=key, checkpoint=checkpoint,
                                 settings=settings))
    return key


def labels_made_with(out_dir: str, checkpoint: str) -> bool:
    """Whether the labels in ``out_dir`` were made with this classifier
    checkpoint as its bytes are now (their ``labels_key.json`` names the
    checkpoint and its key still matches), for reusing another run's
    labels folder.

    Args:
        out_dir: a labels folder written by :func:`label_images`.
        checkpoint: the classifier checkpoint the labels should come from.
    """
    path = osp.join(out_dir, STAMP_NAME)
    if not (osp.isfile(path) and osp.isfile(checkpoint)):
        return False
    with open(path) as f:
        stamp = json.load(f)
    if stamp.get('checkpoint') is None or osp.abspath(
            stamp['checkpoint']) != osp.abspath(checkpoint):
        return False
    return stamp.get('key') == cache_key(file_sha256(checkpoint),
                                         stamp.get('settings', {}), ())


def folder_items(img_dir: str) -> List[LabelItem]:
    """The images of a folder (``IMG_EXTENSIONS``), named by stem, sorted.

    Raises:
        FileNotFoundError / ValueError: a missing or empty folder.
    """
    images = list_stems(img_dir, IMG_EXTENSIONS)
    if not images:
        raise ValueError(f'no images ({", ".join(IMG_EXTENSIONS)}) in '
                         f'{img_dir}')
    return [LabelItem(stem, path) for stem, path in sorted(images.items())]


def label_path(out_dir: str, item: LabelItem) -> str:
    """Where the label of ``item`` is stored."""
    return osp.join(out_dir, item.name + '.png')


def stage_path(out_dir: str, item: LabelItem) -> str:
    """Where the stage figure of ``item`` is stored."""
    return osp.join(out_dir, STAGES_DIR, item.name + '.png')


def _generate(generator, item: LabelItem, save_stages: bool):
    img = read_image(item.path, 'unchanged_rgb')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        result = generator(img, return_stages=save_stages, name=item.path)
    for w in caught:  # one line per warning, naming the file
        print(f'warning: {w.message}', file=sys.stderr, flush=True)
    return img, result


def label_images(generator,
                 items: Sequence[LabelItem],
                 out_dir: str,
                 save_stages: bool = False,
                 skip_bad: bool = False,
                 progress: bool = True) -> LabelSummary:
    """Label ``items`` into ``out_dir``, reusing labels already there.

    Args:
        generator: a pseudo-label generator (e.g. ``PseudoLabelGenerator``):
            callable as ``generator(img, return_stages=bool, name=str)`` on
            an RGB(A)/grey uint8 or uint16 image, returning an object with
            ``soft`` (float32 (H, W) in [0, 1]), ``label`` (uint8 (H, W) in
            {0, 1}) and ``stages``; its ``output`` attribute is the
            :class:`LabelOutput` that fixes format and keep rule.
        items: the images and their output names.
        out_dir: output folder; labels go to ``out_dir/<name>.png``.
        save_stages: also write ``out_dir/stages/<name>.png`` figures (a
            label without its figure is made again).
        skip_bad: record unreadable images in ``failed`` and go on, instead
            of raising.
        progress: show a progress bar.

    Returns:
        :class:`LabelSummary`.
    """
    output: LabelOutput = generator.output
    folders = {osp.dirname(label_path(out_dir, i)) for i in items}
    if save_stages:
        folders |= {osp.dirname(stage_path(out_dir, i)) for i in items}
    for folder in sorted(folders):
        remove_stale_temp_files(folder)  # left by a killed run
    summary = LabelSummary(images=len(items))
    start = time.time()
    bar = ProgressBar(len(items)) if progress and items else None
    for item in items:
        out_path = label_path(out_dir, item)
        fig_path = stage_path(out_dir, item)
        if osp.isfile(out_path) and (not save_stages
                                     or osp.isfile(fig_path)):
            n = output.crack_pixels(read_image(out_path, 'grayscale'))
            summary.reused += 1
        else:
            try:
                img, result = _generate(generator, item, save_stages)
            except ValueError as e:
                if not skip_bad:
                    raise
                summary.failed.append(dict(image=item.path, error=str(e)))
                if bar is not None:
                    bar.update()
                continue
            if save_stages:
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore')
                    rgb = as_rgb_uint8(img)
                atomic_write_bytes(
                    fig_path, stage_figure(rgb, result.stages, result.label))
            atomic_write_image(out_path,
                               output.encode(result.soft, result.label))
            n = int(result.label.sum())
            summary.generated += 1
        summary.crack_pixels[item.name] = n
        (summary.kept if output.keep(n) else summary.dropped).append(
            item.name)
        if bar is not None:
            bar.update()
    if bar is not None:
        print('', flush=True)
    summary.seconds = round(time.time() - start, 3)
    return summary
