# Pseudo-label generator settings of the paper (König et al.), step by step.
# The one place these values are written: PseudoLabelGenerator takes its
# defaults from this file, the other presets are deltas on it, the
# weakly-supervised configs inherit it (configs/_base_/wsv/) and
# tools/generate_pseudo_labels.py reads it (--preset paper). Every field is
# overridable, e.g. --cfg-options pseudo_label_generator.threshold.d=5
# (training configs) or threshold.d=5 (tools/generate_pseudo_labels.py)
pseudo_label_generator = dict(
    type='PseudoLabelGenerator',
    # localisation, part 1: classify 32 px windows at stride 16, average the
    # overlapping windows per pixel, upsample with Lanczos
    patch=dict(size=32, stride=16, batch_size=256, mode='average',
               resize='lanczos', quantize=False),
    # localisation, part 2: Grad-CAM++ of the last conv stage, crack class
    # (target_layer None: the backbone's last conv stage, e.g.
    # backbone.layer4 of a ResNet; or a module path in the classifier)
    cam=dict(target_layer=None, class_index='crack',
             normalize='minmax', resize='lanczos', quantize=False),
    # mean of both maps, keep > 0.5, grey erosion 3x3 x 4
    fusion=dict(threshold=0.5, erosion_size=3, erosion_iters=4),
    # bilateral (d=2, sigma 120) on grey, 3-class multi-Otsu in 32 px
    # windows at stride 8 (classes=2: plain Otsu, the paper's Table IV
    # ablation), crack where every covering window agrees
    threshold=dict(d=2, sigma_color=120.0, sigma_space=120.0,
                   filter_on='gray', channel_order='rgb', window=32,
                   stride=8, nbins=256, classes=3),
    # product of both, bilateral again, closing 3x3 x 1
    merge=dict(bilateral=True, d=2, sigma_color=120.0, sigma_space=120.0,
               closing_size=3, closing_iters=1),
    # binary label (merged map >= 0.05: the threshold measured best on CFD
    # train, see docs/pseudo_labels.md), kept when it has >= 100 crack pixels
    output=dict(binarize=True, threshold=0.05, min_crack_pixels=100),
    tile_size=None,
    channels_last=True)
