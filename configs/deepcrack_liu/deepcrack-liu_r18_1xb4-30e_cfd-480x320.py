# Backbone swap by inheritance: DeepCrack (Liu) side outputs + fusion on a
# ResNet-18 (4 stages, strides 4-32) instead of the VGG-16-BN encoder. Only
# the backbone and the head's per-stage inputs change.
_base_ = ['./deepcrack-liu_1xb4-30e_cfd-480x320.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch'),
    decode_head=dict(
        in_channels=(64, 128, 256, 512),
        in_index=(0, 1, 2, 3),
        side_weights=(0.5, 0.75, 1.0, 0.75)))
