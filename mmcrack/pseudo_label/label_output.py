"""The output step of a pseudo-label generator: label, stored format, keep
rule — one definition used by the generators, the folder labeller, the hook
and the CLI.

``output`` settings (``configs/_base_/pseudo_label/*.py``)::

    output=dict(binarize=True, threshold=0.05, min_crack_pixels=100)

* ``binarize=True``: the label is ``soft >= threshold``; stored as a 0/255
  PNG.
* ``binarize=False``: the soft map is the output (the published code); the
  label is ``round(soft * 255) > 0`` (i.e. ``soft > 0`` for the paper
  generator, whose merged map is a multiple of 1/255); stored as
  ``round(soft * 255)``.
* keep rule: a label trains (and counts as kept) when it has at least
  ``min_crack_pixels`` crack pixels.

The stored PNG holds the label exactly, so the crack-pixel count (and the
keep decision) read back from a stored file equals the one computed when the
label was made.
"""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabelOutput:
    """Label, storage and keep rule of a generator's ``output`` settings.

    Args:
        binarize: True for a binary label, False for the soft map.
        threshold: crack where the soft map is ``>= threshold`` (binary).
        min_crack_pixels: keep rule, crack pixels a label needs (>= 0).
    """
    binarize: bool = True
    threshold: float = 0.05
    min_crack_pixels: int = 100

    @classmethod
    def from_settings(cls, output: dict) -> 'LabelOutput':
        """From a generator's ``output`` settings dict."""
        out = cls(binarize=bool(output['binarize']),
                  threshold=float(output['threshold']),
                  min_crack_pixels=int(output['min_crack_pixels']))
        if out.min_crack_pixels < 0:
            raise ValueError('output.min_crack_pixels must be >= 0, got '
                             f'{out.min_crack_pixels}')
        return out

    def label(self, soft: np.ndarray) -> np.ndarray:
        """uint8 (H, W) in {0, 1} of a soft map float (H, W) in [0, 1]."""
        if self.binarize:
            return (soft >= self.threshold).astype(np.uint8)
        return (np.round(np.clip(soft, 0, 1) * 255) > 0).astype(np.uint8)

    def keep(self, crack_pixels: int) -> bool:
        """The keep rule: ``crack_pixels >= min_crack_pixels``."""
        return int(crack_pixels) >= self.min_crack_pixels

    def encode(self, soft: np.ndarray, label: np.ndarray) -> np.ndarray:
        """The stored image, uint8 (H, W): ``label * 255`` (binary) or
        ``round(soft * 255)`` (soft)."""
        if self.binarize:
            return (np.asarray(label) > 0).astype(np.uint8) * 255
        return np.round(np.clip(soft, 0, 1) * 255).astype(np.uint8)

    def crack_pixels(self, stored: np.ndarray) -> int:
        """Crack pixels of a stored image (uint8 (H, W)) under the same rule
        as :meth:`label`."""
        stored = np.asarray(stored)
        return int((stored >= 128).sum() if self.binarize else
                   (stored > 0).sum())
