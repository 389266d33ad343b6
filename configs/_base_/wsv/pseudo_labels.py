# The weakly-supervised layer: inherit it beside a segmentation config to
# train that model on pseudo-labels instead of masks, e.g.
#   _base_ = ['../unet/unet-s5-d16_fcn_1xb4-400i_synthetic-256x256.py',
#             '../_base_/wsv/pseudo_labels.py']
#   classifier_config = 'configs/classifier/....py'
#   classifier_checkpoint = 'work_dirs/.../epoch_4.pth'
# PseudoLabelHook labels the training images with the crack-patch classifier
# before the first iteration (paper steps 2-4). WeaklySupervisedRunner makes
# the run mask-free: the training dataset lists images only, there is no
# validation on ground truth, and the last checkpoint is the result
# (mmcrack/engine/runners/weakly_supervised_runner.py).
_base_ = ['../pseudo_label/paper.py']

# ===================== parameters that often need to be modified ==========
# the crack-patch classifier (mmpretrain config + trained checkpoint); set
# them in the leaf config or with --cfg-options classifier_checkpoint=PATH
classifier_config = 'configs/classifier/resnet18-w32_1xb16-4e_crack-patch.py'
classifier_checkpoint = \
    'work_dirs/resnet18-w32_1xb16-4e_crack-patch/epoch_4.pth'
# folders of unlabelled images to pseudo-label and add to training (the
# semi-supervised variant of the paper's Table V)
extra_img_dirs = []
# known negatives: folders of images known to hold no crack (e.g. those
# labelled no_crack), trained with an empty mask as hard negatives; off in
# the paper
negative_img_dirs = []
# ===========================================================================

# the generator settings are `pseudo_label_generator` of the paper preset
# (inherited above): change a field in the leaf config, e.g.
#   pseudo_label_generator = dict(output=dict(threshold=0.1))
# or --cfg-options pseudo_label_generator.output.threshold=0.1

# WeaklySupervisedRunner fills the hook's generator, classifier_config,
# classifier_checkpoint, extra_img_dirs and negative_img_dirs from the
# variables above
runner_type = 'WeaklySupervisedRunner'
custom_hooks = [dict(type='PseudoLabelHook')]
