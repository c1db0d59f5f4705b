_base_ = [
    '../_base_/models/ocrnet_hr18.py', '../_base_/datasets/celebamask_hq.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
# CascadeEncoderDecoder (stock mmseg) has no left/right channel swap, so a
# flipped test view would mix up l_eye/r_eye etc.; the dataset's test
# pipeline keeps flip off. Training still uses the L/R-aware FaceRandomFlip.
