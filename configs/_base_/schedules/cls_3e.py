# The paper's classifier schedule: SGD lr 1e-3 momentum 0.9, learning rate
# x0.1 after every epoch, 3 epochs (batch 16 in the dataset config).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=0.0))
param_scheduler = dict(type='StepLR', by_epoch=True, step_size=1, gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=3, val_interval=1)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    # oneDNN convolutions are faster on NHWC tensors (engine/hooks)
    channels_last=dict(type='ChannelsLastHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False))
log_processor = dict(by_epoch=True)
