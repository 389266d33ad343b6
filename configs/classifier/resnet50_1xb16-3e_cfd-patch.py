# The paper's ResNet-50 classifier on CrackForest (CFD) patches.
_base_ = ['./resnet50_1xb16-3e_crack-patch.py']
data_root = '../shared/datasets/CFD'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
