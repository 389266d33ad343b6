# Small CPU crack-patch classifier: ResNet-18 at half width (32 base
# channels), from scratch; head and preprocessing as resnet50_crack_patch.py.
_base_ = ['./resnet50_crack_patch.py']
model = dict(
    backbone=dict(depth=18, base_channels=32, stem_channels=32),
    head=dict(in_channels=256))
