# CRF labels (Dong et al.; the paper's "CRF Labels" comparison), step by
# step: Grad-CAM of the crack-patch classifier on the whole image, upsampled
# to the image size, is the crack probability of a 2-label dense CRF on the
# RGB image; the CRF posterior is binarised. The one place these values are
# written: CRFLabelGenerator takes its defaults from this file and
# tools/generate_pseudo_labels.py reads it (--preset crf). The CRF values are
# pydensecrf's reference example; the paper grid-searches them per
# classifier on 100 training images with masks:
# tools/analysis_tools/crf_grid_search.py writes the best ones as a preset
# file on top of this one (docs/pseudo_labels.md).
pseudo_label_generator = dict(
    type='CRFLabelGenerator',
    # plain Grad-CAM of the crack class at the last conv stage
    # (target_layer None: the backbone's last conv stage, e.g.
    # backbone.layer4 of a ResNet; or a module path in the classifier),
    # min-max normalised, bilinear upsampling to the image size
    cam=dict(target_layer=None, class_index='crack', normalize='minmax',
             resize='bilinear', quantize=False),
    # dense CRF (mmcrack.pseudo_label.dense_crf.DenseCRFSettings): unary
    # -log(1 - cam), -log(cam); Gaussian + bilateral Potts kernels
    crf=dict(gaussian_sxy=3.0, gaussian_compat=3.0, bilateral_sxy=80.0,
             bilateral_srgb=13.0, bilateral_compat=10.0, iterations=5,
             eps=1e-5),
    # binary label: CRF posterior P(crack) >= 0.5 (the CRF's MAP label),
    # kept when it has >= 100 crack pixels
    output=dict(binarize=True, threshold=0.5, min_crack_pixels=100),
    channels_last=True)
