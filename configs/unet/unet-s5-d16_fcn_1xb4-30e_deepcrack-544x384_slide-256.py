# As the DeepCrack U-Net config, but inference by 256x256 sliding windows
# (stride 170), for images larger than the training images.
_base_ = ['./unet-s5-d16_fcn_1xb4-30e_deepcrack-544x384.py']
model = dict(test_cfg=dict(mode='slide', crop_size=(256, 256), stride=(170, 170)))
