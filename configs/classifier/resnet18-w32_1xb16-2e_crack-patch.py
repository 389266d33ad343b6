# Small CPU classifier for demos and tests: ResNet-18 at half width (32 base
# channels), 2 epochs, Adam; everything else as the paper's config.
_base_ = ['./resnet50_1xb16-3e_crack-patch.py']
model = dict(
    backbone=dict(depth=18, base_channels=32, stem_channels=32),
    head=dict(in_channels=256))
optim_wrapper = dict(optimizer=dict(_delete_=True, type='Adam', lr=1e-3))
train_cfg = dict(max_epochs=2)
param_scheduler = dict(step_size=10)
