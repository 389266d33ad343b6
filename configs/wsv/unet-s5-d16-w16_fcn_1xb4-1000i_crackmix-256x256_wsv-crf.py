# The combined-protocol WSV U-Net (benchmarks/comparison_tables.py) trained
# on CRF labels (Dong et al.; the paper's "CRF Labels") instead of the
# paper's pseudo-labels; `preset` may name a file written by
# tools/analysis_tools/crf_grid_search.py. Why `_delete_` and not a second
# base: see unet-s5-d16_fcn_1xb4-400i_synthetic-256x256_wsv-crf.py.
_base_ = ['./unet-s5-d16-w16_fcn_1xb4-1000i_crackmix-256x256_wsv.py']
pseudo_label_generator = dict(
    _delete_=True, type='CRFLabelGenerator', preset='crf')
