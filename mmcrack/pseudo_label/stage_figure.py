"""One figure per image with the pseudo-label generator's stages (the
panels of the paper's Fig. 2 / Fig. 4)."""
import io

import numpy as np

#: (stage key, panel title), in display order after the input: the paper
#: generator's stages, then those of the comparison generators.
PANELS = (('patch', 'patch classification'),
          ('cam', 'class activation map'),
          ('localization', 'fused localisation'),
          ('threshold', 'patch multi-Otsu'), ('walk', 'random walk'),
          ('crf_prob', 'CRF posterior'))


def stage_figure(img_rgb: np.ndarray, stages: dict,
                 label: np.ndarray) -> bytes:
    """PNG bytes of the panels input / stages / pseudo-label.

    Args:
        img_rgb: uint8 (H, W, 3) RGB input.
        stages: float (H, W) maps in [0, 1] by stage key (those of
            :data:`PANELS`; missing ones are left out).
        label: (H, W) pseudo-label in {0, 1}.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    panels = [('input', img_rgb)] + [(title, stages[key])
                                     for key, title in PANELS
                                     if key in stages]
    panels.append(('pseudo-label', label))
    cols = 3
    rows = -(-len(panels) // cols)
    aspect = img_rgb.shape[0] / img_rgb.shape[1]
    fig, axes = plt.subplots(rows, cols, squeeze=False,
                             figsize=(12, 12 * aspect * rows / cols + 0.6))
    for ax in axes.flat:
        ax.axis('off')
    for ax, (title, data) in zip(axes.flat, panels):
        if data.ndim == 3:
            ax.imshow(data)
        else:
            ax.imshow(data, cmap='gray', vmin=0, vmax=1)
        ax.set_title(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=80)
    plt.close(fig)
    return buf.getvalue()
