"""Draw measured cracks over an image: each crack tinted in its own colour,
its centre line, its bounding box and a label ``#id w=max width``."""
from typing import Optional

import cv2
import numpy as np

from .crack_measurement import CrackMap

__all__ = ['PALETTE', 'draw_cracks']

# distinct, saturated RGB colours (cycled by crack id)
PALETTE = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200),
           (245, 130, 48), (145, 30, 180), (70, 240, 240), (240, 50, 230),
           (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40))


def _as_rgb(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise ValueError(f'image must be uint8, got {img.dtype}')
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if img.ndim == 3 and img.shape[2] == 3:
        return img.copy()
    raise ValueError(f'image must be (H, W) or (H, W, 3), got {img.shape}')


def draw_cracks(image: np.ndarray, result: CrackMap,
                px_size: Optional[float] = None,
                alpha: float = 0.5) -> np.ndarray:
    """Draw the cracks of :func:`measure_cracks` over an image.

    Args:
        image: uint8 RGB (H, W, 3) or grey (H, W), the size of the measured
            map.
        result: :class:`CrackMap` of that map.
        px_size: mm per px; when given the label gives the width in mm too.
        alpha: tint opacity on the crack pixels, in [0, 1].

    Returns:
        uint8 RGB (H, W, 3): crack pixels tinted, centre lines in the full
        colour, bounding boxes, and ``#id w=W px`` (``W px / M mm``) next to
        each crack, white on a dark outline.
    """
    out = _as_rgb(image)
    h, w = out.shape[:2]
    if result.labels is None or result.labels.shape != (h, w):
        shape = None if result.labels is None else result.labels.shape
        raise ValueError(f'image is {h}x{w} but the crack map is {shape}')
    colours = np.array([(0, 0, 0)] + [
        PALETTE[(c.crack_id - 1) % len(PALETTE)] for c in result.cracks
    ], np.float32)
    lab = result.labels
    sel = lab > 0
    tinted = out.astype(np.float32)
    tinted[sel] = (1 - alpha) * tinted[sel] + alpha * colours[lab[sel]]
    out = np.round(tinted).astype(np.uint8)
    skel = result.skeleton & sel
    out[skel] = colours[lab[skel]].astype(np.uint8)
    scale = float(np.clip(min(h, w) / 700.0, 0.35, 1.2))
    thick = 1 if scale < 0.8 else 2
    for c in result.cracks:
        colour = tuple(int(v) for v in colours[c.crack_id])
        x, y, bw, bh = c.bbox
        cv2.rectangle(out, (x, y), (x + bw - 1, y + bh - 1), colour, 1)
        text = f'#{c.crack_id} w={c.max_width_px:.1f}px'
        if px_size is not None:
            text += f'/{c.max_width_px * px_size:.2f}mm'
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX,
                                         scale, thick)
        tx = int(np.clip(x, 0, max(w - tw, 0)))
        ty = y - 3 if y - 3 - th >= 0 else y + bh + th + 2
        ty = int(np.clip(ty, th, max(h - base, th)))
        for col, t in (((0, 0, 0), thick + 2), ((255, 255, 255), thick)):
            cv2.putText(out, text, (tx, ty), cv2.FONT_HERSHEY_SIMPLEX, scale,
                        col, t, cv2.LINE_AA)
    return out
