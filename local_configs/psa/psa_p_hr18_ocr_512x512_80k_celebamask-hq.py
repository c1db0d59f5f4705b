_base_ = './psa_s_hr18_ocr_512x512_80k_celebamask-hq.py'
# The parallel layout (PSA_p) of the same network.
model = dict(backbone=dict(psa_layout='parallel'))
