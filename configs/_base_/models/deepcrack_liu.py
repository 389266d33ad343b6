# DeepCrack, Liu et al. 2019 (Neurocomputing): VGG-16-BN encoder without
# pool5, 5 side outputs + 1x1 fusion, deep supervision (0.5, 0.75, 1.0, 0.75,
# 0.5) + fuse 1, BCE. Trained from scratch (no ImageNet weights, as the paper).
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    # any input size works in-model; 1 = pad a batch to its largest image
    # only (mmseg's stack_batch needs one of size / size_divisor)
    size_divisor=1)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='DeepCrackLiuEncoder',
        in_channels=3,
        base_channels=64,
        stage_multipliers=(1, 2, 4, 8, 8),
        num_convs=(2, 2, 3, 3, 3),
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU')),
    decode_head=dict(
        type='DeepCrackLiuHead',
        in_channels=(64, 128, 256, 512, 512),
        side_weights=(0.5, 0.75, 1.0, 0.75, 0.5),
        fuse_weight=1.0,
        fuse_kernel_size=1,
        # inference-time refinement of the fused map guided by side 1 (the
        # paper's DeepCrack-GF); enable: guided_filter=dict(enabled=True)
        guided_filter=dict(
            enabled=False, radius=5, eps=1e-6, src_threshold=0.31),
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
