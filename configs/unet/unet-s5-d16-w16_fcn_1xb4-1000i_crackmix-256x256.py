# CPU-sized U-Net (base_channels=16) for the paper's combined protocol at CPU
# scale (benchmarks/paper_tables.py): a data root that mixes image sizes
# (DeepCrack 544x384, CFD 480x320), so training takes random 256x256 crops;
# test on whole images. Fully-supervised twin of
# configs/wsv/unet-s5-d16-w16_fcn_1xb4-1000i_crackmix-256x256_wsv.py.
_base_ = ['./unet-s5-d16_fcn_1xb4-400i_synthetic-256x256.py']
crop_size = (256, 256)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCrackAnnotations'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[750], gamma=0.1)
]
train_cfg = dict(max_iters=1000, val_interval=500)
default_hooks = dict(checkpoint=dict(interval=500))
