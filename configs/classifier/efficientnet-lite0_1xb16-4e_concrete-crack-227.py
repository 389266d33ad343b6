# EfficientNet-Lite0 (ImageNet weights) on Özgenel's Concrete Crack Images:
# DATA/Positive/*.jpg and DATA/Negative/*.jpg, 20,000 patches of 227 px each,
# no split: a 10 % hash hold-out of the files is the validation (and test)
# set. Trained at the patches' own 227 px: native scale and exact labels,
# the conditions of the paper's 128 px windows (a 128 px resize would shrink
# cracks x0.56; a 128 px crop of a positive may miss its crack). Schedule as
# efficientnet-lite0_1xb16-4e_crack-patch.py: Adam 1e-4, 4 epochs, x0.1 for
# the last.
_base_ = [
    '../_base_/models/efficientnet-lite0_crack_patch.py',
    '../_base_/datasets/crack_patch_folders.py',
    '../_base_/schedules/cls_cpu_4e_finetune.py',
    '../_base_/cls_runtime.py',
]
data_root = 'data/concrete_crack_images'
concrete = dict(data_root=data_root, data_prefix=dict(img_path=''),
                patch_size=227, holdout=0.1)
train_dataloader = dict(dataset=dict(subset='train', **concrete))
val_dataloader = dict(dataset=dict(subset='val', **concrete))
test_dataloader = dict(dataset=dict(subset='val', **concrete))
