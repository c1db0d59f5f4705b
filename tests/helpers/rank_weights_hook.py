"""A test-only runner hook: each rank saves its parameters before and after a run.

Checkpoints come from rank 0 only; comparing every rank's own copy is how
the tests see that DDP really synchronised the gradients. Buffers are left
out: on CPU, BN statistics are per process (see mmseg_face.compat).
"""
import os.path as osp

import torch
from mmcv.runner import HOOKS, Hook, get_dist_info


@HOOKS.register_module()
class SaveRankWeightsHook(Hook):

    def _save(self, runner, stage):
        rank, _ = get_dist_info()
        model = getattr(runner.model, 'module', runner.model)
        state = {k: v.detach().cpu().clone()
                 for k, v in model.named_parameters()}
        torch.save(state, osp.join(runner.work_dir,
                                   f'rank{rank}_{stage}.pth'))

    def before_run(self, runner):
        self._save(runner, 'before')

    def after_run(self, runner):
        self._save(runner, 'after')
