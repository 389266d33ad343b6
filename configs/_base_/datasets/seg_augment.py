# Training pipeline of the paper's segmentation schedule: flips, colour
# jitter (0.2, p=0.75) and exactly one of Gaussian / multiplicative noise.
# Used by the real-data dataset configs (cfd.py, deepcrack.py).
seg_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCrackAnnotations'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='RandomApply', prob=0.75, transforms=[
        dict(type='mmpretrain.ColorJitter', brightness=0.2, contrast=0.2,
             saturation=0.2, hue=0.0),
        dict(type='RandomHue', max_delta=0.2),
    ]),
    dict(type='RandomChoice', transforms=[
        [dict(type='GaussianNoise', max_sigma=0.01 * 255)],
        [dict(type='MultiplicativeNoise', factor_range=(0.75, 1.25))],
    ]),
    dict(type='PackSegInputs'),
]
