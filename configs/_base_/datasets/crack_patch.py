# Crack / no-crack patches cut on the fly from a segmentation layout
# (paper step 1): 128 px windows at stride 64, crack when the window holds
# >= 1 crack pixel, x8 dihedral augmentation (training only). Normalisation
# lives in the model's data_preprocessor (shared with the pseudo-label
# generator). The dataset configs (crack_patch_{synthetic,cfd,deepcrack}.py)
# inherit this file and set data_root; any other root: tools/train.py
# --data-root DIR.
dataset_type = 'CrackPatchDataset'
data_root = 'data/crack'
patch = dict(patch_size=128, stride=64, crack_patch_min_pixels=1)
train_pipeline = [
    dict(type='LoadCrackPatch', cache_size=64),
    # colour jitter 0.2 with p=0.75 (hue by mmcrack's RandomHue: mmcv's
    # adjust_hue fails under NumPy 2)
    dict(type='RandomApply', prob=0.75, transforms=[
        dict(type='ColorJitter', brightness=0.2, contrast=0.2,
             saturation=0.2, hue=0.0),
        dict(type='RandomHue', max_delta=0.2),
    ]),
    # exactly one of Gaussian (sigma up to 0.01 x 255) or multiplicative
    # (x0.75..1.25) noise, each half the time
    dict(type='RandomChoice', transforms=[
        [dict(type='GaussianNoise', max_sigma=0.01 * 255)],
        [dict(type='MultiplicativeNoise', factor_range=(0.75, 1.25))],
    ]),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadCrackPatch', cache_size=64),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/train', seg_map_path='masks/train'),
        dihedral_aug=True,
        pipeline=train_pipeline,
        **patch))
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/val', seg_map_path='masks/val'),
        dihedral_aug=False,
        pipeline=test_pipeline,
        **patch))
test_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/test', seg_map_path='masks/test'),
        dihedral_aug=False,
        pipeline=test_pipeline,
        **patch))
# crack-class precision / recall / F1 (paper Table I)
val_evaluator = dict(type='CrackPatchMetric')
test_evaluator = val_evaluator
