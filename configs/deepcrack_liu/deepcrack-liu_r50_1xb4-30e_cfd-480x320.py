# Backbone swap by inheritance: DeepCrack (Liu) side outputs + fusion on a
# ResNet-50 (V1c stem, 4 stages, strides 4-32): the ResNet-18 swap with
# another depth and the head's per-stage inputs.
_base_ = ['./deepcrack-liu_r18_1xb4-30e_cfd-480x320.py']
model = dict(
    backbone=dict(type='ResNetV1c', depth=50),
    decode_head=dict(in_channels=(256, 512, 1024, 2048)))
