# Synthetic crack set written by tools/dataset_converters/make_synthetic.py.
# Other location: --cfg-options or tools/train.py --data-root DIR.
_base_ = ['./crack_seg.py']
data_root = 'data/synthetic'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
