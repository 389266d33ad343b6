# The paper's ResNet-50 classifier on DeepCrack (validation on test) patches.
_base_ = [
    '../_base_/models/resnet50_crack_patch.py',
    '../_base_/datasets/crack_patch_deepcrack.py',
    '../_base_/schedules/cls_3e.py',
    '../_base_/cls_runtime.py',
]
