_base_ = ['./segnext_mscan-t_8x8_512x512_160k_celebamask-hq.py']
# Runs e4s2022/SegNeXt-FaceParser's segnext.tiny.best_mIoU_iter_160000.pth
# after tools/model_converters/segnext_faceparser.py. Its 150-output classifier
# (left over from ADE20K) is cut to the 19 trained outputs. The test pipeline
# of the base config is the original's: Resize with keep_ratio to fit 512x512
# (its MultiScaleFlipAug img_scale=(1024, 1024) with img_ratios=[0.5] is that
# scale), RGB, ImageNet mean/std, no flip. The original resizes the logits to
# the resized image (img_shape, a change of its EncoderDecoder); ours to the
# input's size (ori_shape). The weights come from the converted file, so no
# ImageNet init.
model = dict(backbone=dict(init_cfg=None))
