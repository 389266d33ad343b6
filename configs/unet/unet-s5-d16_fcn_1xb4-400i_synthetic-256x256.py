# U-Net (mmseg UNet + FCNHead), binary: one output channel, sigmoid, BCE.
# CPU demo size: base_channels=16, 400 iterations on the synthetic set.
_base_ = [
    '../_base_/models/unet_crack.py',
    '../_base_/datasets/synthetic_crack.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_demo_cpu.py',
]
# Short CPU schedule: BCE with pos_weight 10 (class_weight of a sigmoid
# head) so that the 1-2 % crack pixels are learnt within 400 iterations; the
# paper's 30-epoch configs use plain BCE.
model = dict(
    backbone=dict(base_channels=16),
    decode_head=dict(
        in_channels=16, channels=16, loss_decode=dict(class_weight=[10.0])))
# iteration-based schedule: an endless sampler
train_dataloader = dict(sampler=dict(type='InfiniteSampler', shuffle=True))
