# Weakly-supervised twin of the CPU U-Net demo: trained on pseudo-labels that
# PseudoLabelHook makes from the crack-patch classifier before the first
# iteration; the training split needs no masks. Train the classifier first:
#   python tools/train.py configs/classifier/resnet18-w32_1xb16-4e_crack-patch.py
_base_ = [
    '../unet/unet-s5-d16_fcn_1xb4-400i_synthetic-256x256.py',
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
