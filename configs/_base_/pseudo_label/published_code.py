# The published code's choices (jacobkoenig/WeaklySupervisedCrackSeg), for
# comparison with the paper's defaults (paper.py): one score per window
# position (no overlap averaging), Hamming resize of uint8-truncated maps,
# Grad-CAM++ of the argmax class max-normalised, bilateral d=5 on the colour
# image with the BGR grey conversion applied to RGB data, a soft output and
# no 100-pixel keep rule.
_base_ = ['./paper.py']
pseudo_label_generator = dict(
    patch=dict(mode='grid', resize='hamming', quantize=True),
    cam=dict(class_index='argmax', normalize='max', resize='hamming',
             quantize=True),
    threshold=dict(d=5, filter_on='color', channel_order='bgr'),
    merge=dict(d=5),
    output=dict(binarize=False, min_crack_pixels=0))
