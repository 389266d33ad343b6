# U-Net (mmseg UNet + FCNHead), binary: one output channel, sigmoid, BCE.
# CPU demo size: base_channels=16, 400 iterations on the synthetic set.
_base_ = [
    'mmseg::_base_/models/fcn_unet_s5-d16.py',
    '../_base_/datasets/synthetic_crack.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_demo_cpu.py',
]
# Set where it is used: a top-level norm_cfg does not reach the model dicts
# already resolved in the mmseg base.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        size_divisor=16,
        test_cfg=dict(size_divisor=16)),
    backbone=dict(base_channels=16, norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=16,
        channels=16,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=norm_cfg,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    auxiliary_head=None,
    test_cfg=dict(mode='whole'))
