"""Each compatibility patch of mmseg_face.compat, with a test that fails without it.

Process-group tests run in a subprocess (a one-process gloo group), so the
pytest process never holds a process group.
"""
import os.path as osp
import textwrap

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmcv.runner import IterBasedRunner, load_checkpoint, save_checkpoint

import mmseg_face  # noqa: F401
from mmseg_face.compat import (UnsafeCheckpointError, apply_all,
                               normalize_local_rank_argv)

needs_no_cuda = pytest.mark.skipif(
    torch.cuda.is_available(), reason='the patched failure needs a CPU-only machine')

PROCESS_GROUP = '''
import os
os.environ.update(RANK='0', WORLD_SIZE='1', LOCAL_RANK='0',
                  MASTER_ADDR='127.0.0.1', MASTER_PORT=os.environ['PORT'])
import mmseg_face
from mmcv.runner import init_dist
init_dist('pytorch')
'''


def run_python(run_tool, body):
    result = run_tool(['python', '-c', PROCESS_GROUP + textwrap.dedent(body)],
                      timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def test_local_rank_spellings():
    argv = ['cfg.py', '--local-rank=1', '--launcher', 'pytorch',
            '--local-rank', '3', '--local_rank=2', '--local-ranks=9']
    assert normalize_local_rank_argv(argv) == [
        'cfg.py', '--local_rank=1', '--launcher', 'pytorch', '--local_rank',
        '3', '--local_rank=2', '--local-ranks=9'
    ]


@needs_no_cuda
def test_init_dist_without_cuda_picks_gloo(run_tool):
    out = run_python(run_tool, '''
        import torch.distributed as dist
        print('backend', dist.get_backend(), dist.get_world_size())
    ''')
    assert 'backend gloo 1' in out


@needs_no_cuda
def test_init_dist_refuses_nccl_without_cuda(run_tool):
    result = run_tool(['python', '-c', textwrap.dedent('''
        import mmseg_face
        from mmcv.runner import init_dist
        init_dist('pytorch', backend='nccl')
    ''')])
    assert result.returncode != 0
    assert "backend 'nccl' needs CUDA" in result.stderr


@needs_no_cuda
def test_cpu_ddp_trains_and_forwards_datacontainers(run_tool):
    out = run_python(run_tool, '''
        import torch, torch.nn as nn
        from mmcv.parallel import DataContainer
        from mmseg.utils import build_ddp
        from mmseg_face.compat import CPUDistributedDataParallel

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 2, 1)
                self.bn = nn.SyncBatchNorm(2)
            def forward(self, img):
                return self.bn(self.conv(img)).sum()
            def train_step(self, data, optimizer):
                loss = self(**data)
                return dict(loss=loss, log_vars={}, num_samples=1)

        model = build_ddp(Net(), 'cpu', device_ids=[0])
        assert isinstance(model, CPUDistributedDataParallel)
        assert not any(isinstance(m, nn.SyncBatchNorm) for m in model.modules())
        batch = dict(img=DataContainer([torch.ones(1, 3, 4, 4)], stack=True))
        outputs = model.train_step(batch, None)
        outputs['loss'].backward()
        assert model.module.conv.weight.grad is not None
        print('forward', float(model(**batch)))
    ''')
    assert 'forward' in out


def test_mmddp_forward_without_replicated_tensor_module(run_tool):
    out = run_python(run_tool, '''
        import torch, torch.nn as nn
        from mmcv.parallel import MMDistributedDataParallel
        model = MMDistributedDataParallel(nn.Linear(2, 1))
        print('out', model(torch.ones(3, 2)).shape)
    ''')
    assert 'out torch.Size([3, 1])' in out


@needs_no_cuda
def test_collect_results_cpu_without_tmpdir(run_tool):
    out = run_python(run_tool, '''
        from mmseg.apis import multi_gpu_test  # noqa: F401 (binds the name)
        import mmseg.apis.test as mmseg_test
        print('results', mmseg_test.collect_results_cpu(['a', 'b'], 2))
    ''')
    assert "results ['a', 'b']" in out


@needs_no_cuda
def test_iter_runner_resume_on_cpu(tmp_path):
    model = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    runner = IterBasedRunner(model, optimizer=optimizer,
                             work_dir=str(tmp_path), logger=_logger())
    runner._iter = 7
    runner.save_checkpoint(str(tmp_path), filename_tmpl='iter_{}.pth')
    fresh_model = nn.Linear(2, 2)
    fresh = IterBasedRunner(
        fresh_model, optimizer=torch.optim.SGD(
            fresh_model.parameters(), lr=0.1, momentum=0.9),
        work_dir=str(tmp_path), logger=_logger())
    fresh.resume(str(tmp_path / 'iter_8.pth'))
    assert fresh.iter == 8
    assert torch.equal(fresh.model.weight, model.weight)


def _logger():
    import logging
    return logging.getLogger('test_compat')


def test_checkpoint_with_numpy_meta_loads_weights_only(tmp_path):
    model = nn.Linear(2, 2)
    path = str(tmp_path / 'best.pth')
    meta = dict(hook_msgs=dict(best_score=np.float64(0.75)),
                PALETTE=np.array([[0, 0, 0], [255, 0, 0]], np.uint8))
    save_checkpoint(model, path, meta=meta)
    checkpoint = load_checkpoint(nn.Linear(2, 2), path, map_location='cpu')
    assert checkpoint['meta']['hook_msgs']['best_score'] == 0.75
    assert checkpoint['meta']['PALETTE'].tolist() == [[0, 0, 0], [255, 0, 0]]


class Payload:
    """Stands for an arbitrary pickled object in an untrusted checkpoint."""


def test_checkpoint_with_other_objects_is_refused(tmp_path):
    path = str(tmp_path / 'unsafe.pth')
    torch.save(dict(state_dict=nn.Linear(2, 2).state_dict(),
                    meta=dict(extra=Payload())), path)
    with pytest.raises(UnsafeCheckpointError) as error:
        load_checkpoint(nn.Linear(2, 2), path, map_location='cpu')
    assert path in str(error.value) and 'weights-only' in str(error.value)
    assert 'Payload' in str(error.value)


def test_apply_all_is_idempotent():
    from mmcv.runner import dist_utils
    from mmseg.utils import build_ddp
    before = (dist_utils.init_dist, build_ddp, IterBasedRunner.resume)
    apply_all()
    from mmseg.utils import build_ddp as build_ddp_again
    assert before == (dist_utils.init_dist, build_ddp_again,
                      IterBasedRunner.resume)


def test_weights_only_stays_default(tmp_path):
    import os
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in os.environ
    path = str(tmp_path / 'plain.pth')
    torch.save(dict(obj=Payload()), path)
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(path)
    assert osp.isfile(path)
