# Crack / no-crack patch classifier of the paper: ResNet-50, 2 classes, CE,
# SGD lr 1e-3 momentum 0.9, x0.1 per epoch, 3 epochs, batch 16, on 128 px
# patches (synthetic set; --data-root DIR or the *_cfd / *_deepcrack twins).
#
# Contract with the pseudo-label generator: classes ('no_crack', 'crack')
# (crack = index 1, saved in the checkpoint's dataset_meta); inputs normalised
# by model.data_preprocessor below (ImageNet RGB mean/std, to_rgb=True); the
# Grad-CAM++ target layer is backbone.layer4 (the last conv stage).
# The paper starts from ImageNet weights: set
#   model.backbone.init_cfg=dict(type='Pretrained', checkpoint=PATH_OR_URL)
_base_ = [
    '../_base_/datasets/crack_patch_synthetic.py',
    '../_base_/schedules/cls_3e.py',
    '../_base_/cls_runtime.py',
]
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
