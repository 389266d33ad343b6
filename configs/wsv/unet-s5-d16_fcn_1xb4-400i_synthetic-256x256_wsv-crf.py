# The synthetic weakly-supervised demo trained on CRF labels (Dong et al.;
# the paper's "CRF Labels" comparison) instead of the paper's pseudo-labels.
#
# The generator is the CRF-label one with its preset
# configs/_base_/pseudo_label/crf.py. That preset is not a second `_base_`
# here: the wsv layer already inherits paper.py, and mmengine refuses a key
# (`pseudo_label_generator`) defined by two base files. Instead the leaf
# replaces the inherited dict (`_delete_=True`) by one that names the class
# and its preset; the generator reads every setting from the preset file
# when it is built (CRFLabelGenerator(preset='crf')), so the values stay
# written once. Point `preset` at a file written by
# tools/analysis_tools/crf_grid_search.py to train on grid-searched CRF
# parameters; override single fields beside it, e.g.
#   pseudo_label_generator = dict(_delete_=True, type='CRFLabelGenerator',
#                                 preset='crf', crf=dict(iterations=10))
# or --cfg-options pseudo_label_generator.crf.iterations=10
_base_ = ['./unet-s5-d16_fcn_1xb4-400i_synthetic-256x256_wsv.py']
pseudo_label_generator = dict(
    _delete_=True, type='CRFLabelGenerator', preset='crf')
