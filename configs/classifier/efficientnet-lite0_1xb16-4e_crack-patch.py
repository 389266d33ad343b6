# CPU schedule of the ImageNet EfficientNet-Lite0 classifier: Adam, 4 epochs
# with the learning rate x0.1 for the last one (cls_cpu_4e.py), at lr 1e-4
# instead of the ResNet-18's 1e-3: fine-tuning pretrained weights. Measured
# on the combined protocol's training patches (234 iterations, test-patch
# F1 on a quarter of its test images): Adam 1e-4 0.916, SGD 1e-2 momentum
# 0.9 0.853, Adam 1e-3 0.822. Data, patches and augmentation as the paper's
# config.
_base_ = [
    '../_base_/models/efficientnet-lite0_crack_patch.py',
    '../_base_/datasets/crack_patch_synthetic.py',
    '../_base_/schedules/cls_cpu_4e.py',
    '../_base_/cls_runtime.py',
]
optim_wrapper = dict(optimizer=dict(lr=1e-4))
