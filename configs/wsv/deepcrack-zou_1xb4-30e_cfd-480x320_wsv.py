# Weakly-supervised twin of deepcrack_zou/deepcrack-zou_1xb4-30e_cfd-480x320.py:
# trained on pseudo-labels of its training images, no mask read.
# Train the classifier first: python tools/train.py configs/classifier/resnet50_1xb16-3e_cfd-patch.py
_base_ = ['../deepcrack_zou/deepcrack-zou_1xb4-30e_cfd-480x320.py', '../_base_/wsv/pseudo_labels.py']
classifier_config = 'configs/classifier/resnet50_1xb16-3e_cfd-patch.py'
classifier_checkpoint = 'work_dirs/resnet50_1xb16-3e_cfd-patch/epoch_3.pth'
