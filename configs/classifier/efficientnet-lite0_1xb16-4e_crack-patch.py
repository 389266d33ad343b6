# CPU schedule of the ImageNet EfficientNet-Lite0 classifier, as the
# ResNet-18 CPU config: Adam lr 1e-3, 4 epochs with the learning rate x0.1
# for the last one; data, patches and augmentation as the paper's config.
_base_ = ['./efficientnet-lite0_1xb16-3e_crack-patch.py']
optim_wrapper = dict(optimizer=dict(_delete_=True, type='Adam', lr=1e-3))
train_cfg = dict(max_epochs=4)
param_scheduler = dict(step_size=3)
