# Small CPU classifier for demos and tests: ResNet-18 at half width (32 base
# channels), Adam, 4 epochs with the learning rate x0.1 for the last one;
# everything else (data, patches, augmentation) as the paper's config.
# ~5 min on 2 cores on the synthetic set; crack F1 0.89 on its test patches
# (benchmarks/bench_classifier_synthetic.py).
_base_ = ['./resnet50_1xb16-3e_crack-patch.py']
model = dict(
    backbone=dict(depth=18, base_channels=32, stem_channels=32),
    head=dict(in_channels=256))
optim_wrapper = dict(optimizer=dict(_delete_=True, type='Adam', lr=1e-3))
train_cfg = dict(max_epochs=4)
param_scheduler = dict(step_size=3)
