# Ablation of the paper's Table IV: 2-class Otsu instead of 3-class
# multi-Otsu in the 32 px windows (a window says crack for its dark class,
# pixel <= its Otsu threshold). Everything else as paper.py.
_base_ = ['./paper.py']
pseudo_label_generator = dict(threshold=dict(classes=2))
