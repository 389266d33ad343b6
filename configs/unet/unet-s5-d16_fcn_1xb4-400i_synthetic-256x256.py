# U-Net (mmseg UNet + FCNHead), binary: one output channel, sigmoid, BCE.
# CPU demo size: base_channels=16, 400 iterations on the synthetic set.
_base_ = [
    '../_base_/models/unet_crack.py',
    '../_base_/datasets/synthetic_crack.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_demo_cpu.py',
]
model = dict(
    backbone=dict(base_channels=16),
    decode_head=dict(in_channels=16, channels=16))
# iteration-based schedule: an endless sampler
train_dataloader = dict(sampler=dict(type='InfiniteSampler', shuffle=True))
