# Image-level labels (weak labels: no mask is read): per split an image
# folder and a stem,label list (label crack | no_crack | 1 | 0), as
# masks_to_classification.py --image-level [--tile 256] and
# make_synthetic.py --classification write them:
#   DATA/<split>/images/*.jpg|png + DATA/<split>/labels.txt
# A no_crack image gives all its 128 px windows at stride 64 (label 0) and
# its whole image fitted to 128 px (label 0); a crack image gives its whole
# image fitted to 128 px (label 1). Meant for images up to about twice the
# patch size (e.g. 256 px tiles). See docs/classification_folders.md.
_base_ = './crack_patch.py'
data_root = 'data/crack_image_list'
image_list_source = dict(source='image_list', image_level_negatives=True)
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        data_prefix=dict(_delete_=True, img_path='train/images'),
        ann_file='train/labels.txt',
        **image_list_source))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        data_prefix=dict(_delete_=True, img_path='val/images'),
        ann_file='val/labels.txt',
        **image_list_source))
test_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        data_prefix=dict(_delete_=True, img_path='test/images'),
        ann_file='test/labels.txt',
        **image_list_source))
