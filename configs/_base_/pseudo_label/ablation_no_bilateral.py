# Ablation of the paper's Table IV: the paper's method without the two
# bilateral filters (before the window-wise multi-Otsu and after the
# product of the two branches). Everything else as paper.py.
_base_ = ['./paper.py']
pseudo_label_generator = dict(
    threshold=dict(filter_on='none'),
    merge=dict(bilateral=False))
