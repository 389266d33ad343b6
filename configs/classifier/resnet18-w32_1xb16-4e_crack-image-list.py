# The CPU classifier (as resnet18-w32_1xb16-4e_crack-patch.py) trained on
# image-level labels: DATA/<split>/images + DATA/<split>/labels.txt
# (stem,label). No-crack images give their windows, crack images their whole
# image fitted to 128 px (configs/_base_/datasets/crack_patch_image_list.py).
_base_ = [
    '../_base_/models/resnet18-w32_crack_patch.py',
    '../_base_/datasets/crack_patch_image_list.py',
    '../_base_/schedules/cls_cpu_4e.py',
    '../_base_/cls_runtime.py',
]
