# OED with EfficientNet-B0, narrow decoder, for the CPU demo on the synthetic
# set. No ImageNet weights (offline-safe); BCE + Dice as the paper.
_base_ = [
    '../_base_/models/oed_b0.py',
    '../_base_/datasets/synthetic_crack.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_demo_cpu.py',
]
model = dict(
    backbone=dict(encoder=dict(init_cfg=None)),
    decode_head=dict(decoder_channels=(64, 32, 32, 16, 16)))
train_dataloader = dict(sampler=dict(type='InfiniteSampler', shuffle=True))
