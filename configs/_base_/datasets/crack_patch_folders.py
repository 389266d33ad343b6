# Crack / no-crack class folders (weak labels: no mask is read). Layout per
# split, as tools/dataset_converters/masks_to_classification.py and
# make_synthetic.py --classification write it:
#   DATA/{train,val,test}/<class folder>/*.jpg|png
# The class map names the folders of each class (names or glob patterns,
# listed non-recursively): Özgenel's Concrete Crack Images (Positive /
# Negative), SDNET2018 (D/CD, P/CP, W/CW vs D/UD, P/UP, W/UW) and mmcrack's
# crack / no_crack. Each file is one sample fitted to patch_size
# (patch_mode='resize': exact labels; 'random_crop' keeps the native scale
# but a crop of a crack patch may miss the crack). Pipelines, augmentation
# and the evaluator are those of crack_patch.py. See
# docs/classification_folders.md.
_base_ = './crack_patch.py'
data_root = 'data/crack_folders'
class_dirs = dict(crack=['Positive', 'crack', '*/C*'],
                  no_crack=['Negative', 'no_crack', '*/U*'])
folder_source = dict(source='folders', class_dirs=class_dirs,
                     patch_mode='resize')
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        data_prefix=dict(_delete_=True, img_path='train'),
        **folder_source))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        data_prefix=dict(_delete_=True, img_path='val'),
        test_mode=True,  # centre crops with patch_mode='random_crop'
        **folder_source))
test_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        data_prefix=dict(_delete_=True, img_path='test'),
        test_mode=True,
        **folder_source))
