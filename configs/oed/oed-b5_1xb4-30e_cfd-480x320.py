# OED with EfficientNet-B5 (ImageNet weights) on CrackForest (CFD).
# Paper schedule: 30 epochs, SGD lr 1e-3 momentum 0.9, x0.1 every 10
# epochs, batch 4, BCE + Dice on every output.
_base_ = [
    '../_base_/models/oed_b5.py',
    '../_base_/datasets/cfd.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_30e.py',
]
