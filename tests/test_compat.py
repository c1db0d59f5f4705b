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

# One subprocess holds a one-process gloo group and runs every check that
# needs it (each launch costs seconds of imports); tests read its markers.
PROCESS_GROUP_CHECKS = textwrap.dedent('''
    import os
    os.environ.update(RANK='0', WORLD_SIZE='1', LOCAL_RANK='0',
                      MASTER_ADDR='127.0.0.1', MASTER_PORT=os.environ['PORT'])
    import torch, torch.nn as nn
    import torch.distributed as dist
    import mmseg_face
    from mmcv.parallel import DataContainer, MMDistributedDataParallel
    from mmcv.runner import init_dist
    from mmseg.apis import multi_gpu_test  # binds collect_results_cpu
    import mmseg.apis.test as mmseg_test
    from mmseg.utils import build_ddp
    from mmseg_face.compat import CPUDistributedDataParallel

    init_dist('pytorch')
    print('BACKEND', dist.get_backend(), dist.get_world_size())

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 2, 1)
            self.bn = nn.SyncBatchNorm(3)
        def forward(self, img):
            return self.conv(img).sum() + self.bn(img).sum()
        def train_step(self, data, optimizer):
            return dict(loss=self(**data), log_vars={}, num_samples=1)

    model = build_ddp(Net(), 'cpu', device_ids=[0])
    assert isinstance(model, CPUDistributedDataParallel)
    assert not any(isinstance(m, nn.SyncBatchNorm) for m in model.modules())
    batch = dict(img=DataContainer([torch.ones(1, 3, 4, 4)], stack=True))
    model.train_step(batch, None)['loss'].backward()
    print('CPU_DDP', float(model.module.conv.weight.grad.sum()))
    model(**batch)  # plain forward also unwraps the DataContainer

    plain = MMDistributedDataParallel(nn.Linear(2, 1))
    print('MMDDP_FORWARD', tuple(plain(torch.ones(3, 2)).shape))

    print('COLLECT', mmseg_test.collect_results_cpu(['a', 'b'], 2))
''')


@pytest.fixture(scope='module')
def process_group_run(run_tool):
    result = run_tool(['python', '-c', PROCESS_GROUP_CHECKS], timeout=300)
    return result


def _marker(result, name):
    assert result.returncode == 0, result.stderr[-4000:]
    lines = [line for line in result.stdout.splitlines()
             if line.startswith(name + ' ')]
    assert lines, result.stdout
    return lines[0][len(name) + 1:]


def test_local_rank_spellings():
    argv = ['cfg.py', '--local-rank=1', '--launcher', 'pytorch',
            '--local-rank', '3', '--local_rank=2', '--local-ranks=9']
    assert normalize_local_rank_argv(argv) == [
        'cfg.py', '--local_rank=1', '--launcher', 'pytorch', '--local_rank',
        '3', '--local_rank=2', '--local-ranks=9'
    ]


@needs_no_cuda
def test_init_dist_without_cuda_picks_gloo(process_group_run):
    assert _marker(process_group_run, 'BACKEND') == 'gloo 1'


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
def test_cpu_ddp_trains_and_forwards_datacontainers(process_group_run):
    # d(sum of 1x1 conv outputs)/dW = 16 ones per weight, 2 x 3 weights.
    assert float(_marker(process_group_run, 'CPU_DDP')) == 96.0


def test_mmddp_forward_without_replicated_tensor_module(process_group_run):
    assert _marker(process_group_run, 'MMDDP_FORWARD') == '(3, 1)'


@needs_no_cuda
def test_collect_results_cpu_without_tmpdir(process_group_run):
    assert _marker(process_group_run, 'COLLECT') == "['a', 'b']"


@needs_no_cuda
def test_iter_runner_resume_on_cpu(tmp_path):
    model = _Trainable()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    runner = IterBasedRunner(model, optimizer=optimizer,
                             work_dir=str(tmp_path), logger=_logger())
    runner._iter = 7
    runner.save_checkpoint(str(tmp_path), filename_tmpl='iter_{}.pth')
    fresh_model = _Trainable()
    fresh = IterBasedRunner(
        fresh_model, optimizer=torch.optim.SGD(
            fresh_model.parameters(), lr=0.1, momentum=0.9),
        work_dir=str(tmp_path), logger=_logger())
    fresh.resume(str(tmp_path / 'iter_8.pth'))
    assert fresh.iter == 7  # the file is named after the next iteration
    assert torch.equal(fresh.model.weight, model.weight)


def test_dataloader_without_workers():
    from mmseg.apis import train as mmseg_train
    from mmseg.datasets import build_dataloader

    dataset = [dict(value=torch.tensor([index])) for index in range(3)]
    # mmseg's default persistent_workers=True; torch refuses it with 0.
    loader = build_dataloader(dataset, 2, 0, dist=False, shuffle=False)
    assert loader.num_workers == 0 and not loader.persistent_workers
    assert [batch['value'].tolist() for batch in loader] == [[[0], [1]],
                                                              [[2]]]
    assert mmseg_train.build_dataloader is build_dataloader
    # With workers, persistence stays as asked.
    loader = build_dataloader(dataset, 2, 1, dist=False)
    assert loader.persistent_workers


class _Trainable(nn.Linear):

    def __init__(self):
        super().__init__(2, 2)

    def train_step(self, data, optimizer):
        return dict(loss=self(data).sum(), log_vars={}, num_samples=1)


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
