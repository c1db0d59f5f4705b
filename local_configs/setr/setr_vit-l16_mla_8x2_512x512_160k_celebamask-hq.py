_base_ = [
    '../_base_/models/setr_mla_vit-l16.py',
    '../_base_/datasets/celebamask_hq.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_160k.py'
]
# mmseg's SETR recipe at 512x512 (setr_mla_512x512_160k_b16_ade20k.py):
# ImageNet-21k ViT-L/16 (timm's jx_vit_large_p16_384, converted by mmseg's
# tools/model_converters/vit2mmseg.py; its position embedding is resized to
# 32x32 on loading), SGD lr 1e-3 without weight decay, 10x lr in the heads,
# poly over 160k iterations, batch 16. Whole-image testing: the faces are
# 512x512, the size of ADE20K's sliding window.
model = dict(
    pretrained='pretrain/vit_large_p16.pth',
    flip_pairs={{_base_.flip_pairs}})
optimizer = dict(
    lr=0.001,
    weight_decay=0.0,
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10.)}))
# num_gpus: 8 -> batch_size: 16
data = dict(samples_per_gpu=2)
