"""The one place where crack masks on disk become 0/1 labels.

Crack masks are stored as 0 (background) / 255 (crack). mmseg treats 255 as
``ignore_index``, so a mask that is not mapped to 0/1 silently trains on
nothing. Every loader in mmcrack calls :func:`binarize_mask`.
"""
import numpy as np

BINARIZE_RULES = ('nonzero', 'ge128')


def binarize_mask(mask: np.ndarray, rule: str = 'ge128') -> np.ndarray:
    """Map a mask read from disk to crack labels.

    Args:
        mask: (H, W) integer array (uint8 0..255 or uint16), or (H, W, C) —
            then the first channel is used (all channels of a grey mask saved
            as RGB are equal).
        rule: ``'ge128'`` — crack where value >= 128 (default; robust to JPEG
            ringing around 0/255 masks and to 0/255 anti-aliasing) or
            ``'nonzero'`` — crack where value > 0 (for 0/1 masks).

    Returns:
        uint8 array (H, W) with values in {0, 1}.

    Raises:
        ValueError: unknown rule, not 2-D, or a 0/1 mask under ``'ge128'``
            (it would silently lose every crack pixel).
    """
    if rule not in BINARIZE_RULES:
        raise ValueError(f'unknown mask binarisation rule {rule!r}; '
                         f'choose one of {BINARIZE_RULES}')
    if mask.ndim == 3:
        mask = mask[..., 0]
    if mask.ndim != 2:
        raise ValueError(f'mask must be 2-D, got shape {mask.shape}')
    if rule == 'nonzero':
        return (mask > 0).astype(np.uint8)
    if mask.max(initial=0) == 1:
        raise ValueError('mask holds only 0/1 values but the rule is '
                         "'ge128' (for 0/255 masks): every crack pixel would "
                         "be lost; use mask_rule='nonzero' for 0/1 masks")
    if mask.dtype == np.uint16:
        return (mask >= 128 * 257).astype(np.uint8)
    return (mask >= 128).astype(np.uint8)
