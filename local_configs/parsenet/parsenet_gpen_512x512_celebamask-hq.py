_base_ = ['./parsenet_1x8_512x512_80k_celebamask-hq.py']
# Runs GPEN's ParseNet-latest.pth (= facexlib / CodeFormer
# parsing_parsenet.pth) after tools/model_converters/parsenet.py. The test
# pipeline is GPEN's FaceParse.process (and facexlib's): cv2.resize to
# 512x512 with INTER_LINEAR, aspect ignored (mmseg's Resize with
# keep_ratio=False calls exactly that), RGB, x / 127.5 - 1. No
# ResizeToMultiple: 512 is already divisible by ParseNet's 16.
# Both feed it the 512 face of facexlib's FaceRestoreHelper: its five-point
# template (FFHQ-style) put through the celeba_hq construction (= FFHQ's)
# gives a 504 px square centred at (256, 253), so that preset frames faces
# in the wild within 2% of what the original saw.
face_alignment = 'celeba_hq'
img_norm_cfg = dict(mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5],
                    to_rgb=True)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiScaleFlipAug',
        img_scale=(512, 512),
        flip=False,
        transforms=[
            dict(type='Resize', keep_ratio=False),
            dict(type='RandomFlip'),
            dict(type='Normalize', **img_norm_cfg),
            dict(type='ImageToTensor', keys=['img']),
            dict(type='Collect', keys=['img']),
        ])
]
data = dict(val=dict(pipeline=test_pipeline), test=dict(pipeline=test_pipeline))
