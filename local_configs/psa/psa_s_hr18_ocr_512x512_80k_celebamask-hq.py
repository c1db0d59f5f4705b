_base_ = [
    '../_base_/models/ocrnet_hr18_psa.py', '../_base_/datasets/celebamask_hq.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_psa_80k.py'
]
# HRNetV2-W18 + PSA_s + OCR for faces: the official recipe's optimiser,
# schedule and OCR aux weight (0.4), CE instead of its RMI loss, 512² crops
# with scales 0.5-2 and the L/R-aware flip, 8 GPUs x 2 images.
# CascadeEncoderDecoder (stock mmseg) cannot swap left/right channels in a
# flip test, so the dataset's test pipeline keeps flip off.
data = dict(samples_per_gpu=2, workers_per_gpu=2)
