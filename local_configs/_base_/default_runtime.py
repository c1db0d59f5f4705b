# Every config inherits this, so every tool run registers mmseg_face first.
custom_imports = dict(imports=['mmseg_face'], allow_failed_imports=False)
log_config = dict(
    interval=50, hooks=[dict(type='TextLoggerHook', by_epoch=False)])
# No backend on purpose: mmseg_face picks nccl when CUDA is present and gloo
# otherwise. Set backend here to override.
dist_params = dict()
log_level = 'INFO'
load_from = None
resume_from = None
workflow = [('train', 1)]
cudnn_benchmark = True
