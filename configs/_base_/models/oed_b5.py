# OED, König et al. 2021 (Digital Signal Processing): EfficientNet-B5 encoder
# (ImageNet weights, as the paper) with skips at strides 2/4/8/16 (expansion
# activations, as the OED code), decoder 256/128/64/32/16 with residual
# blocks, full-resolution stage joined with a conv stack on the image,
# 4 deep-supervision outputs; BCE + Dice on all 5 outputs.
# Other sizes: inherit and change backbone.encoder.arch, its checkpoint and
# decode_head.in_channels (see oed_b0.py; channels per arch are listed in
# EfficientNetSkips' docstring).
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    # any input size works in-model; 1 = pad a batch to its largest image
    size_divisor=1)
checkpoint = 'https://download.openmmlab.com/mmclassification/v0/efficientnet/efficientnet-b5_3rdparty_8xb32_in1k_20220119-e9814430.pth'  # noqa: E501
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='EfficientNetSkips',
        skip_source='expand',
        with_input=True,
        encoder=dict(
            type='mmpretrain.EfficientNet',
            arch='b5',
            norm_cfg=dict(type='BN', eps=1e-3, requires_grad=True),
            init_cfg=dict(
                type='Pretrained', checkpoint=checkpoint,
                prefix='backbone.'))),
    decode_head=dict(
        type='OEDHead',
        in_channels=(3, 144, 240, 384, 1056, 2048),
        decoder_channels=(256, 128, 64, 32, 16),
        num_res_blocks=2,
        # residual blocks without BN, as the OED code; to add BN set
        # res_norm_cfg=dict(type='BN') (left out here: a dict cannot be
        # merged onto a None in a child config)
        main_weight=1.0,
        aux_weights=(1.0, 1.0, 1.0, 1.0),
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=[
            dict(
                type='CrossEntropyLoss',
                use_sigmoid=True,
                avg_non_ignore=True,
                loss_name='loss_ce',
                loss_weight=1.0),
            dict(
                type='BinaryDiceLoss',
                smooth=1.0,
                batch_dice=True,
                loss_name='loss_dice',
                loss_weight=1.0)
        ]),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
