# DeepCrack, Zou et al. 2019 (IEEE TIP): SegNet (13 + 13 conv, BN, unpooling
# with pool indices), encoder/decoder concatenation at 5 scales -> 1 channel
# each -> 1x1 fusion; equal-weight BCE on all 6 outputs. Paper variant; for
# the authors' PyTorch port set backbone.norm_cfg=None and
# decode_head=dict(side_mode='port', fuse_kernel_size=3).
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    # any input size works in-model (unpooling restores odd sizes); 1 = pad
    # a batch to its largest image only
    size_divisor=1)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='DeepCrackZouSegNet',
        in_channels=3,
        base_channels=64,
        stage_multipliers=(1, 2, 4, 8, 8),
        num_convs=(2, 2, 3, 3, 3),
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU')),
    decode_head=dict(
        type='DeepCrackZouHead',
        in_channels=(128, 192, 384, 768, 1024),
        side_weights=(1.0, 1.0, 1.0, 1.0, 1.0),
        fuse_weight=1.0,
        side_mode='paper',
        fuse_kernel_size=1,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=True,
            avg_non_ignore=True,
            loss_name='loss_ce',
            loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
