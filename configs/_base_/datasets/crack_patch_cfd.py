# Crack patches from CrackForest (CFD) train / val / test (../shared/datasets).
_base_ = './crack_patch.py'
data_root = '../shared/datasets/CFD'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
