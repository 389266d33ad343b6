# The CPU classifier (ResNet-18 at half width, Adam 1e-3, 4 epochs, x0.1
# for the last: as resnet18-w32_1xb16-4e_crack-patch.py) trained on crack /
# no-crack class folders instead of masks (DATA/{train,val,test}/<class>/;
# the synthetic set: make_synthetic.py --classification, DATA =
# OUT/classification). Files are fitted to 128 px.
_base_ = [
    '../_base_/models/resnet50_crack_patch.py',
    '../_base_/datasets/crack_patch_folders.py',
    '../_base_/schedules/cls_3e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    backbone=dict(depth=18, base_channels=32, stem_channels=32),
    head=dict(in_channels=256))
optim_wrapper = dict(optimizer=dict(_delete_=True, type='Adam', lr=1e-3))
train_cfg = dict(max_epochs=4)
param_scheduler = dict(step_size=3)
