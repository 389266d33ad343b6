# Crack / no-crack patch classifier: mmpretrain ResNet-50, 2 classes, CE.
# Normalisation (shared with the pseudo-label generator): ImageNet RGB
# mean/std, to_rgb=True. Grad-CAM++ target layer: backbone.layer4.
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        num_classes=2,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(3, ),
        norm_cfg=dict(type='BN', requires_grad=True),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=2,
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )))
