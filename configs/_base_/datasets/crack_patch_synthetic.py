# Crack patches from the synthetic set
# (tools/dataset_converters/make_synthetic.py).
_base_ = './crack_patch.py'
data_root = 'data/synthetic'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
