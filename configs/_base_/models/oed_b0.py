# OED with an EfficientNet-B0 encoder: the cheap (CPU) variant of oed_b5.py.
_base_ = ['./oed_b5.py']
checkpoint = 'https://download.openmmlab.com/mmclassification/v0/efficientnet/efficientnet-b0_3rdparty_8xb32_in1k_20220119-a7e2a0b1.pth'  # noqa: E501
model = dict(
    backbone=dict(
        encoder=dict(
            arch='b0',
            init_cfg=dict(
                type='Pretrained', checkpoint=checkpoint,
                prefix='backbone.'))),
    decode_head=dict(in_channels=(3, 96, 144, 240, 672, 1280)))
