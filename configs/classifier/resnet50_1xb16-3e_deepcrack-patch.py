# The paper's ResNet-50 classifier on DeepCrack patches (validation on test).
_base_ = ['./resnet50_1xb16-3e_crack-patch.py']
data_root = '../shared/datasets/DeepCrack'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        data_prefix=dict(img_path='images/test', seg_map_path='masks/test')))
test_dataloader = dict(dataset=dict(data_root=data_root))
