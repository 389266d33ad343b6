# DeepCrack (Zou et al. 2019) on DeepCrack.
# Paper schedule: 30 epochs, SGD lr 1e-3 momentum 0.9, x0.1 every 10
# epochs, batch 4, BCE.
_base_ = [
    '../_base_/models/deepcrack_zou.py',
    '../_base_/datasets/deepcrack.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_30e.py',
]
