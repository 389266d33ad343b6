# Weakly-supervised twin of unet/unet-s5-d16_fcn_1xb4-400i_synthetic-256x256.py:
# trained on pseudo-labels of its training images, no mask read.
_base_ = ['../unet/unet-s5-d16_fcn_1xb4-400i_synthetic-256x256.py', '../_base_/wsv/pseudo_labels.py']
