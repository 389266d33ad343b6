# Weakly-supervised twin of
# configs/unet/unet-s5-d16-w16_fcn_1xb4-1000i_crackmix-256x256.py (paper's
# combined protocol at CPU scale, benchmarks/paper_tables.py): PseudoLabelHook
# labels the training images with the crack-patch classifier first.
_base_ = [
    '../unet/unet-s5-d16-w16_fcn_1xb4-1000i_crackmix-256x256.py',
    '../_base_/pseudo_label/paper.py',
]
classifier_config = 'configs/classifier/resnet18-w32_1xb16-4e_crack-patch.py'
classifier_checkpoint = 'work_dirs/resnet18-w32_1xb16-4e_crack-patch/epoch_4.pth'  # noqa: E501
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(_delete_=True, img_path='images/train'),
        allow_missing_masks=True))
custom_hooks = [
    dict(
        type='PseudoLabelHook',
        generator={{_base_.pseudo_label_generator}},
        classifier_config=classifier_config,
        classifier_checkpoint=classifier_checkpoint,
        min_crack_pixels=100)
]
