# CAM + learned-affinity random walk + dense CRF labels (AffinityNet-style;
# mmcrack.pseudo_label.affinity_walk). A partial, CPU-scale build of the
# paper's "CRF+RW Labels" comparison (Wang et al.), NOT that method: the
# CAM is not refined by sub-category exploration and the affinity network
# is a small CNN trained from scratch (docs/pseudo_labels.md). The CAM,
# final CRF and output steps are those of the CRF labels (crf.py); this
# file adds the training labels, the affinity network and the walk.
_base_ = ['./crf.py']
pseudo_label_generator = dict(
    type='AffinityWalkLabelGenerator',
    # training labels: two dense CRFs of cam / (cam + (1 - cam) ** alpha):
    # confident crack where the CRF with the strengthened background
    # (fg_alpha < 1) still says crack, confident background where the one
    # with the weakened background (bg_alpha > 1) still says background
    confidence=dict(fg_alpha=0.25, bg_alpha=4.0),
    # the affinity network (PixelAffinityNet, stride 4): checkpoint = the
    # trained weights (save_affinity_net), required for labelling; the rest
    # trains it (train_affinity_net): pairs within `radius` cells, Adam,
    # random crops with horizontal flips
    affinity=dict(checkpoint=None, width=16, feature_dim=32, radius=5,
                  iterations=300, crop_size=128, batch_size=4, lr=1e-3,
                  seed=0),
    # random walk T = D^-1 A^beta over cells closer than `radius`, `steps`
    # times, of the CAM and of the background score (1 - cam) ** bg_alpha;
    # their ratio is the crack probability of the final CRF (crf settings)
    walk=dict(radius=5, beta=8.0, steps=8, bg_alpha=1.0))
