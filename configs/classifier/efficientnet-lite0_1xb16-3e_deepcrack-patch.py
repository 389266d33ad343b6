# The paper's classifier schedule on an ImageNet EfficientNet-Lite0, on
# DeepCrack patches (see efficientnet-lite0_1xb16-3e_crack-patch.py).
_base_ = [
    '../_base_/models/efficientnet-lite0_crack_patch.py',
    '../_base_/datasets/crack_patch_deepcrack.py',
    '../_base_/schedules/cls_3e.py',
    '../_base_/cls_runtime.py',
]
