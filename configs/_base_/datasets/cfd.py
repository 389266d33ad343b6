# CrackForest (CFD), 480x320: train 64 / val 7 / test 46 (../shared/datasets).
# Other location: tools/train.py --data-root DIR, or --cfg-options
# train_dataloader.dataset.data_root=DIR (and val/test_dataloader).
_base_ = ['./crack_seg.py', './seg_augment.py']
data_root = '../shared/datasets/CFD'
train_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline={{_base_.seg_train_pipeline}}))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
