# Ablation of the paper's Table IV: the paper's method without the
# morphological operations (no erosion of the fused localisation, no
# closing of the merged map). Everything else as paper.py.
_base_ = ['./paper.py']
pseudo_label_generator = dict(
    fusion=dict(erosion_iters=0),
    merge=dict(closing_iters=0))
