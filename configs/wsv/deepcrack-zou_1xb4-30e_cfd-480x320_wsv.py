# Weakly-supervised twin of ../deepcrack_zou/deepcrack-zou_1xb4-30e_cfd-480x320.py: the training split needs no
# masks; PseudoLabelHook labels it with the CFD crack-patch classifier
# before the first iteration. Train the classifier first:
#   python tools/train.py configs/classifier/resnet50_1xb16-3e_cfd-patch.py
_base_ = ['../deepcrack_zou/deepcrack-zou_1xb4-30e_cfd-480x320.py', '../_base_/pseudo_label/paper.py']
classifier_config = 'configs/classifier/resnet50_1xb16-3e_cfd-patch.py'
classifier_checkpoint = 'work_dirs/resnet50_1xb16-3e_cfd-patch/epoch_3.pth'  # noqa: E501
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
