# Backbone swap by inheritance: DeepCrack (Liu) side outputs + fusion on a
# ResNet-50 (V1c stem, 4 stages, strides 4-32). Only the backbone and the
# head's per-stage inputs change.
_base_ = ['./deepcrack-liu_1xb4-30e_cfd-480x320.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch'),
    decode_head=dict(
        in_channels=(256, 512, 1024, 2048),
        in_index=(0, 1, 2, 3),
        side_weights=(0.5, 0.75, 1.0, 0.75)))
