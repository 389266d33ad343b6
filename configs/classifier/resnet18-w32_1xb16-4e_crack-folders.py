# The CPU classifier (as resnet18-w32_1xb16-4e_crack-patch.py) trained on
# crack / no-crack class folders instead of masks (DATA/{train,val,test}/
# <class>/; the synthetic set: make_synthetic.py --classification, DATA =
# OUT/classification). Files are fitted to 128 px.
_base_ = [
    '../_base_/models/resnet18-w32_crack_patch.py',
    '../_base_/datasets/crack_patch_folders.py',
    '../_base_/schedules/cls_cpu_4e.py',
    '../_base_/cls_runtime.py',
]
