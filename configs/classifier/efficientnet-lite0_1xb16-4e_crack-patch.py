# CPU schedule of the ImageNet EfficientNet-Lite0 classifier: Adam, 4 epochs
# with the learning rate x0.1 for the last one, at lr 1e-4 instead of the
# ResNet-18's 1e-3 (fine-tuning pretrained weights: cls_cpu_4e_finetune.py).
# Data, patches and augmentation as the paper's config.
_base_ = [
    '../_base_/models/efficientnet-lite0_crack_patch.py',
    '../_base_/datasets/crack_patch_synthetic.py',
    '../_base_/schedules/cls_cpu_4e_finetune.py',
    '../_base_/cls_runtime.py',
]
