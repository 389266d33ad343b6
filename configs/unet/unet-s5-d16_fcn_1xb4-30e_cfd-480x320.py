# U-Net (binary, BCE) on CrackForest with the paper's segmentation schedule.
_base_ = [
    '../_base_/models/unet_crack.py',
    '../_base_/datasets/cfd.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_30e.py',
]
