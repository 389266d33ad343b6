"""LocalizationCache: the classifier's two maps of an image, kept on disk.

The classifier passes of step 2 (the 32 px window map and Grad-CAM++) are
most of a pseudo-label's cost; the later steps (fusion, thresholding,
merging) are cheap. Labelling the same images again with other fusion,
threshold, merge or output settings (an ablation, a new
``fusion.threshold``) needs the same two maps, so the generator can keep
them:

    generator = PseudoLabelGenerator(cfg, ckpt, localization_cache='cache')

A map is reused only for the same image pixels, classifier checkpoint
bytes, ``patch`` / ``cam`` / ``channels_last`` settings and device type;
the cached maps are the computed arrays themselves (``.npy``, exact), so a
label made from the cache equals one made without it.

Layout: ``ROOT/<key>/key.json`` (what the key stands for) and
``ROOT/<key>/<image sha256>.npz`` (``patch``, ``cam``: float (H, W)).
"""
import hashlib
import io
import json
import os
import os.path as osp
import zipfile
from typing import Optional, Tuple

import numpy as np

from mmcrack.utils.file_io import atomic_write_bytes, atomic_write_json

#: The generator settings the two maps depend on.
MAP_SETTINGS = ('patch', 'cam', 'channels_last')


class LocalizationCache:
    """Patch and Grad-CAM++ maps of localised images, by image content.

    Args:
        root (str): the cache folder (created when missing).
        checkpoint_sha (str): hex SHA-256 of the classifier checkpoint.
        settings (dict): the generator settings; only ``MAP_SETTINGS``
            enter the key.
        device_type (str): ``'cpu'``, ``'cuda'`` (maps of one device are
            not reused on another: their floats may differ).

    Attributes:
        folder (str): ``root/<key>``, this classifier's and settings' maps.
        hits, misses (int): lookups answered from disk / not.
    """

    def __init__(self, root: str, checkpoint_sha: str, settings: dict,
                 device_type: str):
        stands_for = dict(checkpoint_sha256=checkpoint_sha,
                          device_type=device_type,
                          **{k: settings[k] for k in MAP_SETTINGS})
        text = json.dumps(stands_for, sort_keys=True, default=str)
        key = hashlib.sha256(text.encode()).hexdigest()[:16]
        self.folder = osp.join(root, key)
        os.makedirs(self.folder, exist_ok=True)
        key_file = osp.join(self.folder, 'key.json')
        if not osp.isfile(key_file):
            atomic_write_json(key_file, stands_for, indent=1)
        self.hits = 0
        self.misses = 0

    def path(self, img: np.ndarray) -> str:
        """The file of an image's maps.

        Args:
            img: uint8 (H, W, 3), the array the generator localises.
        """
        digest = hashlib.sha256(f'{img.shape}|{img.dtype}'.encode())
        digest.update(np.ascontiguousarray(img).tobytes())
        return osp.join(self.folder, digest.hexdigest() + '.npz')

    def load(self, img: np.ndarray
             ) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        """``(patch, cam)`` of ``img`` when cached, else None. A file that
        cannot be read (e.g. cut short) counts as a miss and is made again.
        """
        path = self.path(img)
        if osp.isfile(path):
            try:
                with np.load(path) as data:
                    maps = data['patch'], data['cam']
            except (OSError, ValueError, KeyError, EOFError,
                    zipfile.BadZipFile):
                maps = None
            if maps is not None and all(m.shape == img.shape[:2]
                                        for m in maps):
                self.hits += 1
                return maps
        self.misses += 1
        return None

    def save(self, img: np.ndarray, patch: np.ndarray,
             cam: np.ndarray) -> None:
        """Keep the maps of ``img`` (written atomically).

        Args:
            img: uint8 (H, W, 3).
            patch, cam: float (H, W) in [0, 1], stored as they are.
        """
        buffer = io.BytesIO()
        np.savez(buffer, patch=patch, cam=cam)
        atomic_write_bytes(self.path(img), buffer.getvalue())

    def stats(self) -> dict:
        """``{'dir', 'hits', 'misses'}``, for a run's summary."""
        return dict(dir=self.folder, hits=self.hits, misses=self.misses)
