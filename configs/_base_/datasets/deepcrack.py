# DeepCrack (Liu et al. 2019), 544x384: train 300 / test 237 (../shared/datasets).
# No official validation split: validation runs on the test split.
# Other location: tools/train.py --data-root DIR, or --cfg-options.
_base_ = ['./crack_seg.py', './seg_augment.py']
data_root = '../shared/datasets/DeepCrack'
train_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline={{_base_.seg_train_pipeline}}))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        data_prefix=dict(img_path='images/test', seg_map_path='masks/test')))
test_dataloader = dict(dataset=dict(data_root=data_root))
