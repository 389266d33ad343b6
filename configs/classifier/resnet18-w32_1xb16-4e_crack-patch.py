# Small CPU classifier for demos and tests: ResNet-18 at half width (32 base
# channels), Adam, 4 epochs with the learning rate x0.1 for the last one;
# data, patches and augmentation as the paper's config.
# ~5 min on 2 cores on the synthetic set; crack F1 0.89 on its test patches
# (benchmarks/bench_classifier_synthetic.py).
_base_ = [
    '../_base_/models/resnet18-w32_crack_patch.py',
    '../_base_/datasets/crack_patch_synthetic.py',
    '../_base_/schedules/cls_cpu_4e.py',
    '../_base_/cls_runtime.py',
]
