# Weakly-supervised twin of oed/oed-lite0_1xb4-30e_deepcrack-544x384.py:
# trained on pseudo-labels of its training images, no mask read.
# Train the classifier first: python tools/train.py configs/classifier/efficientnet-lite0_1xb16-3e_deepcrack-patch.py
_base_ = ['../oed/oed-lite0_1xb4-30e_deepcrack-544x384.py', '../_base_/wsv/pseudo_labels.py']
classifier_config = 'configs/classifier/efficientnet-lite0_1xb16-3e_deepcrack-patch.py'
classifier_checkpoint = 'work_dirs/efficientnet-lite0_1xb16-3e_deepcrack-patch/epoch_3.pth'
