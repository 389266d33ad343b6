# OED with an ImageNet EfficientNet-Lite0 encoder, narrow decoder, for the
# CPU demo on the synthetic set: as oed-b0_1xb4-400i_synthetic-256x256.py
# but pretrained (the Lite weights ship with pip, so it stays offline).
_base_ = [
    '../_base_/models/oed_lite0.py',
    '../_base_/datasets/synthetic_crack.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_demo_cpu.py',
]
model = dict(decode_head=dict(decoder_channels=(64, 32, 32, 16, 16)))
train_dataloader = dict(sampler=dict(type='InfiniteSampler', shuffle=True))
