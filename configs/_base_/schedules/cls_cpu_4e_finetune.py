# CPU schedule for fine-tuning a pretrained classifier: as cls_cpu_4e.py at
# Adam lr 1e-4. Measured with the ImageNet EfficientNet-Lite0 on the
# combined protocol's training patches (234 iterations, test-patch F1 on a
# quarter of its test images): Adam 1e-4 0.916, SGD 1e-2 momentum 0.9
# 0.853, Adam 1e-3 0.822.
_base_ = ['./cls_cpu_4e.py']
optim_wrapper = dict(optimizer=dict(lr=1e-4))
