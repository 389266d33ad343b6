# Crack patches from DeepCrack train / test (../shared/datasets); no official
# validation split: validation runs on the test split.
_base_ = './crack_patch.py'
data_root = '../shared/datasets/DeepCrack'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        data_prefix=dict(img_path='images/test', seg_map_path='masks/test')))
test_dataloader = dict(dataset=dict(data_root=data_root))
