# DeepCrack (Liu) at a quarter of the width (16 base channels) for the CPU
# demo on the synthetic set; BCE with pos_weight 10 for the short schedule.
_base_ = [
    '../_base_/models/deepcrack_liu.py',
    '../_base_/datasets/synthetic_crack.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_demo_cpu.py',
]
model = dict(
    backbone=dict(base_channels=16),
    decode_head=dict(
        in_channels=(16, 32, 64, 128, 128),
        loss_decode=dict(class_weight=[10.0])))
train_dataloader = dict(sampler=dict(type='InfiniteSampler', shuffle=True))
