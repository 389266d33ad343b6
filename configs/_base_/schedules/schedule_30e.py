# The paper's segmentation schedule: 30 epochs, SGD lr 1e-3 momentum 0.9,
# learning rate x0.1 every 10 epochs (batch 4 set by the dataset config).
optimizer = dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=0.0)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer)
param_scheduler = [
    dict(type='StepLR', by_epoch=True, step_size=10, gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=30, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    # oneDNN convolutions are faster on NHWC tensors (engine/hooks)
    channels_last=dict(type='ChannelsLastHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=True, interval=5, save_best='ODS',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
log_processor = dict(by_epoch=True)
