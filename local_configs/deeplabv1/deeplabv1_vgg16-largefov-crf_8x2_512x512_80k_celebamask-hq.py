# DeepLab-CRF-LargeFOV: the same network and training, tested with DeepLab
# v1's fully connected CRF (needs the optional package pydensecrf2).
_base_ = ['./deeplabv1_vgg16-largefov_8x2_512x512_80k_celebamask-hq.py']
model = dict(
    test_cfg=dict(
        crf=dict(
            num_iters=10,
            pos_w=3,
            pos_xy_std=3,
            bi_w=4,
            bi_xy_std=121,
            bi_rgb_std=5)))
