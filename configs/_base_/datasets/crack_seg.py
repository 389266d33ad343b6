# Crack segmentation data in mmcrack's layout (ROOT/images/<split>,
# ROOT/masks/<split>, 0/255 masks): train / val / test loaders, whole-image
# testing, ODS / OIS / AP. The dataset configs (synthetic_crack.py, cfd.py,
# deepcrack.py) inherit this file and set data_root; any other root:
# tools/train.py --data-root DIR.
dataset_type = 'CrackSegDataset'
data_root = 'data/crack'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCrackAnnotations'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='PackSegInputs'),
]
# Whole images at their own size; the mask is loaded (and binarised) last.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCrackAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    # finite: works with epoch- and iteration-based loops
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/train', seg_map_path='masks/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/val', seg_map_path='masks/val'),
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/test', seg_map_path='masks/test'),
        pipeline=test_pipeline))
# ODS / OIS / AP over thresholds 0.01..0.99 (mmcrack/evaluation, docs/metrics.md)
val_evaluator = dict(type='CrackMetric', return_curves=False)
test_evaluator = val_evaluator
