# OED with an ImageNet EfficientNet-Lite0 encoder on CrackForest (CFD):
# oed-b5_1xb4-30e_cfd-480x320.py with the Lite0 model base (30 epochs, SGD
# lr 1e-3 momentum 0.9, x0.1 every 10 epochs, batch 4, BCE + Dice).
_base_ = [
    '../_base_/models/oed_lite0.py',
    '../_base_/datasets/cfd.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_30e.py',
]
