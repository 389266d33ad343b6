# Crack / no-crack patch classifier of the paper: ResNet-50, 2 classes, CE,
# SGD lr 1e-3 momentum 0.9, x0.1 per epoch, 3 epochs, batch 16, on 128 px
# patches (synthetic set; --data-root DIR or the *_cfd / *_deepcrack twins).
#
# Contract with the pseudo-label generator: classes ('no_crack', 'crack')
# (crack = index 1, saved in the checkpoint's dataset_meta); inputs normalised
# by model.data_preprocessor (ImageNet RGB mean/std, to_rgb=True); the
# Grad-CAM++ target layer is backbone.layer4 (the last conv stage).
# The paper starts from ImageNet weights: set
#   model.backbone.init_cfg=dict(type='Pretrained', checkpoint=PATH_OR_URL)
_base_ = [
    '../_base_/models/resnet50_crack_patch.py',
    '../_base_/datasets/crack_patch_synthetic.py',
    '../_base_/schedules/cls_3e.py',
    '../_base_/cls_runtime.py',
]
