# CPU schedule of the ImageNet EfficientNet-Lite0 classifier, as the
# ResNet-18 CPU config: Adam lr 1e-3, 4 epochs with the learning rate x0.1
# for the last one; data, patches and augmentation as the paper's config.
_base_ = [
    '../_base_/models/efficientnet-lite0_crack_patch.py',
    '../_base_/datasets/crack_patch_synthetic.py',
    '../_base_/schedules/cls_cpu_4e.py',
    '../_base_/cls_runtime.py',
]
