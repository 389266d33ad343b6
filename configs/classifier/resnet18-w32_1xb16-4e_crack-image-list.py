# The CPU classifier (as resnet18-w32_1xb16-4e_crack-patch.py) trained on
# image-level labels: DATA/<split>/images + DATA/<split>/labels.txt
# (stem,label). No-crack images give their windows, crack images their whole
# image fitted to 128 px (configs/_base_/datasets/crack_patch_image_list.py).
_base_ = [
    '../_base_/models/resnet50_crack_patch.py',
    '../_base_/datasets/crack_patch_image_list.py',
    '../_base_/schedules/cls_3e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    backbone=dict(depth=18, base_channels=32, stem_channels=32),
    head=dict(in_channels=256))
optim_wrapper = dict(optimizer=dict(_delete_=True, type='Adam', lr=1e-3))
train_cfg = dict(max_epochs=4)
param_scheduler = dict(step_size=3)
