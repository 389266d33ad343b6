# The pretrained EfficientNet-Lite0 CPU classifier (as
# efficientnet-lite0_1xb16-4e_crack-patch.py: Adam 1e-4, 4 epochs) trained on
# image-level labels (images + a stem,label list) instead of masks
# (configs/_base_/datasets/crack_patch_image_list.py).
_base_ = [
    '../_base_/models/efficientnet-lite0_crack_patch.py',
    '../_base_/datasets/crack_patch_image_list.py',
    '../_base_/schedules/cls_cpu_4e_finetune.py',
    '../_base_/cls_runtime.py',
]
