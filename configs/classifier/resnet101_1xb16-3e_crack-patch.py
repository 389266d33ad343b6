# As resnet50_1xb16-3e_crack-patch.py with a ResNet-101.
_base_ = ['./resnet50_1xb16-3e_crack-patch.py']
model = dict(backbone=dict(depth=101))
