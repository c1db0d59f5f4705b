"""Compatibility of mmcv-full 1.7 / mmseg 0.30 with torch >= 2.1 and CPU machines.

Every change to mmcv/mmseg behaviour that the stack needs lives here, one
function per problem, each saying why it exists. ``apply_all()`` (run by
``import mmseg_face``) applies them once; applying twice is a no-op. The
tools import ``mmseg_face`` before they run mmseg's own scripts, so the
scripts' ``from mmcv.runner import init_dist``-style imports see the patched
functions.
"""
import contextlib
import functools
import re
import tempfile
import warnings

import mmcv
import numpy as np
import torch
import torch.distributed as dist
from mmcv.cnn.utils import revert_sync_batchnorm
from mmcv.parallel import MMDistributedDataParallel, scatter_kwargs
from mmcv.runner import IterBasedRunner
from mmcv.runner import checkpoint as mmcv_checkpoint
from mmcv.runner import dist_utils
from mmcv.utils import digit_version

from .utils import checkpoint as checkpoint_io
from .utils.checkpoint import UnsafeCheckpointError  # noqa: F401  (API)

_APPLIED = set()


def _once(patch):
    """Run ``patch`` at most once per process."""

    @functools.wraps(patch)
    def wrapper():
        if patch.__name__ not in _APPLIED:
            patch()
            _APPLIED.add(patch.__name__)

    return wrapper


def normalize_local_rank_argv(argv):
    """Spell torch >= 2.0's ``--local-rank`` the way mmseg 0.30 parses it.

    ``torch.distributed.launch`` in torch >= 2.0 passes ``--local-rank=N``
    while mmseg 0.30's train/test scripts only accept ``--local_rank``
    (torchrun passes neither and sets ``LOCAL_RANK``, which they also read).

    Args:
        argv (list[str]): Command-line arguments without the program name.

    Returns:
        list[str]: The arguments with the hyphenated spelling replaced.
    """
    return [re.sub(r'^--local-rank(?==|$)', '--local_rank', arg) for arg in argv]


def default_dist_backend():
    """nccl when CUDA is present, else gloo (the only CPU backend in torch)."""
    return 'nccl' if torch.cuda.is_available() else 'gloo'


@_once
def patch_init_dist():
    """Let ``mmcv.runner.init_dist`` run without CUDA and choose the backend.

    mmcv 1.7's pytorch launcher calls ``torch.cuda.set_device(rank %
    num_gpus)``, a ZeroDivisionError on a machine without GPUs, and defaults
    to nccl, which needs CUDA. A backend left unset (``dist_params=dict()``)
    becomes nccl with CUDA and gloo without; an explicit one is kept.
    """
    original = dist_utils.init_dist

    @functools.wraps(original)
    def init_dist(launcher, backend=None, **kwargs):
        backend = backend or default_dist_backend()
        if torch.cuda.is_available():
            return original(launcher, backend=backend, **kwargs)
        if backend == 'nccl':
            raise RuntimeError(
                "dist_params backend 'nccl' needs CUDA and none was found: "
                "use backend='gloo' or leave the backend unset")
        if launcher != 'pytorch':
            raise RuntimeError(
                f'launcher {launcher!r} is only supported with CUDA; on CPU '
                'start with torchrun (tools/dist_train.sh, --launcher pytorch)')
        dist.init_process_group(backend=backend, **kwargs)

    dist_utils.init_dist = init_dist
    mmcv.runner.init_dist = init_dist


def _scatter_to_cpu(inputs, kwargs, dim):
    """Unwrap DataContainers into CPU tensors, as MMDataParallel does on CPU."""
    if not inputs and not kwargs:
        return inputs, kwargs
    inputs, kwargs = scatter_kwargs(inputs, kwargs, [-1], dim=dim)
    return inputs[0], kwargs[0]


class CPUDistributedDataParallel(MMDistributedDataParallel):
    """MMDistributedDataParallel for CPU process groups (gloo).

    torch's DDP wraps a CPU module only with ``device_ids=None``, and mmcv's
    MMDDP unwraps ``DataContainer`` batches only when ``device_ids`` is set,
    so on CPU the batch is unwrapped here before the usual DDP step.
    """

    def train_step(self, *inputs, **kwargs):
        inputs, kwargs = _scatter_to_cpu(inputs, kwargs, self.dim)
        return super().train_step(*inputs, **kwargs)

    def val_step(self, *inputs, **kwargs):
        inputs, kwargs = _scatter_to_cpu(inputs, kwargs, self.dim)
        return super().val_step(*inputs, **kwargs)

    def _run_ddp_forward(self, *inputs, **kwargs):
        inputs, kwargs = _scatter_to_cpu(inputs, kwargs, self.dim)
        return self.module(*inputs, **kwargs)


@_once
def patch_build_ddp():
    """Make mmseg's ``build_ddp`` accept ``device='cpu'``.

    mmseg 0.30 asserts cuda/mlu, so ``dist_train.sh``/``dist_test.sh`` cannot
    run on CPU. On CPU the model gets :class:`CPUDistributedDataParallel`,
    and SyncBN becomes BN because torch's SyncBatchNorm refuses CPU tensors
    (each process then normalises with its own batch statistics).
    """
    import mmseg.apis.train
    import mmseg.utils
    import mmseg.utils.util_distribution as util_distribution
    original = util_distribution.build_ddp

    @functools.wraps(original)
    def build_ddp(model, device='cuda', *args, **kwargs):
        if device != 'cpu':
            return original(model, device, *args, **kwargs)
        kwargs.pop('device_ids', None)
        if any(isinstance(m, torch.nn.SyncBatchNorm) for m in model.modules()):
            warnings.warn('SyncBN has no CPU implementation in torch; '
                          'using per-process BN in CPU distributed runs')
            model = revert_sync_batchnorm(model)
        return CPUDistributedDataParallel(model, *args, **kwargs)

    for module in (util_distribution, mmseg.utils, mmseg.apis.train):
        module.build_ddp = build_ddp


@_once
def patch_ddp_forward():
    """Drop MMDDP's use of ``_use_replicated_tensor_module`` (torch >= 2.1).

    mmcv 1.6-1.7.2's ``MMDistributedDataParallel._run_ddp_forward`` reads a
    DDP attribute that pytorch PR #95450 removed, so every DDP ``forward``
    (``multi_gpu_test`` in dist_test.sh, DistEvalHook in dist_train.sh)
    raises AttributeError. The replicated-module path it selected is gone
    too, so the module itself runs.
    """
    if digit_version(torch.__version__) < digit_version('2.1.0'):
        return

    def _run_ddp_forward(self, *inputs, **kwargs):
        if self.device_ids:
            inputs, kwargs = self.to_kwargs(inputs, kwargs,
                                            self.device_ids[0])
            return self.module(*inputs[0], **kwargs[0])
        return self.module(*inputs, **kwargs)

    MMDistributedDataParallel._run_ddp_forward = _run_ddp_forward


@_once
def patch_iter_runner_resume():
    """Resume iteration-based runs on machines without CUDA.

    ``IterBasedRunner.resume`` maps the checkpoint to
    ``torch.cuda.current_device()`` by default, which fails without CUDA;
    there the default becomes the CPU.
    """
    original = IterBasedRunner.resume

    @functools.wraps(original)
    def resume(self, checkpoint, resume_optimizer=True,
               map_location='default'):
        if map_location == 'default' and not torch.cuda.is_available():
            map_location = 'cpu'
        return original(self, checkpoint, resume_optimizer, map_location)

    IterBasedRunner.resume = resume


@_once
def patch_collect_results_cpu():
    """Share the result directory of ``collect_results_cpu`` without CUDA.

    With no ``--tmpdir``, mmcv broadcasts the directory name in a CUDA
    tensor, so ``dist_test.sh`` fails on CPU. Without CUDA rank 0's
    directory name is broadcast as a Python object instead.
    """
    import mmcv.engine
    import mmcv.engine.test
    import mmseg.apis.test
    original = mmcv.engine.test.collect_results_cpu

    @functools.wraps(original)
    def collect_results_cpu(result_part, size, tmpdir=None):
        if tmpdir is None and not torch.cuda.is_available():
            shared = [None]
            if dist.get_rank() == 0:
                mmcv.mkdir_or_exist('.dist_test')
                shared[0] = tempfile.mkdtemp(dir='.dist_test')
            dist.broadcast_object_list(shared, src=0)
            tmpdir = shared[0]
        return original(result_part, size, tmpdir)

    for module in (mmcv.engine.test, mmcv.engine, mmseg.apis.test):
        module.collect_results_cpu = collect_results_cpu


@_once
def patch_build_dataloader_without_workers():
    """Let ``data.workers_per_gpu=0`` load the data in the main process.

    mmseg 0.30's ``build_dataloader`` asks for persistent workers unless told
    otherwise, and torch refuses persistent workers when there are none
    (ValueError), so a config with 0 workers cannot train or test. With no
    worker there is nothing to keep alive: persistence is turned off.
    """
    import mmseg.apis.train
    import mmseg.datasets
    import mmseg.datasets.builder as builder
    original = builder.build_dataloader

    @functools.wraps(original)
    def build_dataloader(dataset, samples_per_gpu, workers_per_gpu, *args,
                         **kwargs):
        if workers_per_gpu == 0:
            kwargs['persistent_workers'] = False
        return original(dataset, samples_per_gpu, workers_per_gpu, *args,
                        **kwargs)

    for module in (builder, mmseg.datasets, mmseg.apis.train):
        module.build_dataloader = build_dataloader


# numpy values mmcv/mmseg put in checkpoint meta: ``save_best`` stores the
# best score as a numpy scalar, and palettes may be arrays.
_NUMPY_DTYPES = (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                 np.uint16, np.uint32, np.uint64, np.float16, np.float32,
                 np.float64)


def checkpoint_safe_globals():
    """The non-torch types a weights-only load accepts in a checkpoint."""
    return [
        np.core.multiarray.scalar, np.core.multiarray._reconstruct,
        np.ndarray, np.dtype, *(type(np.dtype(t)) for t in _NUMPY_DTYPES)
    ]


@_once
def patch_checkpoint_loading():
    """Load mmcv/mmseg checkpoints under torch's ``weights_only=True``, with
    errors that name the file and say what is wrong.

    torch >= 2.6 loads with ``weights_only=True`` by default and mmcv 1.x
    passes nothing, so mmseg checkpoints carrying numpy scalars in their
    meta (e.g. the ``save_best`` score) fail to load. weights_only stays on;
    only numpy scalars, arrays and dtypes are allowed besides what torch
    allows itself. Local files go through
    :func:`mmseg_face.utils.checkpoint.load_from_local`: an empty,
    truncated or non-checkpoint file, an object outside the allowlist
    (:class:`UnsafeCheckpointError`) and tensors that differ from the
    content hash of the meta each raise an error naming the file.
    """
    torch.serialization.add_safe_globals(checkpoint_safe_globals())
    mmcv_checkpoint.load_from_local = checkpoint_io.load_from_local
    mmcv_checkpoint.CheckpointLoader.register_scheme(
        prefixes='', loader=checkpoint_io.load_from_local, force=True)


@_once
def patch_checkpoint_saving():
    """Save checkpoints atomically and with a content hash in the meta.

    mmcv writes ``iter_N.pth`` in place and replaces ``latest.pth`` by
    removing it first, so a kill or a full disk during a save leaves a
    truncated checkpoint that resuming then picks. A patch rather than a
    hook: every writer (CheckpointHook, EvalHook's ``save_best``, the
    runners, user code) ends in these two functions, and a hook would
    need every config to name it. See
    :func:`mmseg_face.utils.checkpoint.save_checkpoint`.
    """
    import mmcv.runner.epoch_based_runner
    import mmcv.runner.iter_based_runner
    for module in (mmcv_checkpoint, mmcv.runner,
                   mmcv.runner.iter_based_runner,
                   mmcv.runner.epoch_based_runner):
        module.save_checkpoint = checkpoint_io.save_checkpoint
    original_symlink = mmcv.symlink

    @functools.wraps(original_symlink)
    def symlink(src, dst, overwrite=True, **kwargs):
        if overwrite and not kwargs:
            return checkpoint_io.replace_symlink(src, dst)
        return original_symlink(src, dst, overwrite, **kwargs)

    mmcv.symlink = symlink


@_once
def patch_train_checkpoint_fit():
    """Refuse ``resume_from``/``load_from`` weights that do not fit, first.

    mmcv loads both non-strictly and only logs missing keys, so another
    model's checkpoint trains on from random weights. Before training, the
    file must fit the model, except for the modules named in the config's
    ``load_from_allow_mismatch`` (e.g. ``['decode_head.conv_seg']`` to
    fine-tune with another class count), which only ``load_from`` may
    leave unloaded, as mmcv does.
    """
    import mmseg.apis
    import mmseg.apis.train
    original = mmseg.apis.train.train_segmentor

    @functools.wraps(original)
    def train_segmentor(model, dataset, cfg, *args, **kwargs):
        if cfg.get('resume_from'):
            checkpoint_io.check_checkpoint_fits(model, cfg.resume_from)
        elif cfg.get('load_from'):
            checkpoint_io.check_checkpoint_fits(
                model, cfg.load_from, cfg.get('load_from_allow_mismatch', ()))
        return original(model, dataset, cfg, *args, **kwargs)

    for module in (mmseg.apis.train, mmseg.apis):
        module.train_segmentor = train_segmentor


@contextlib.contextmanager
def fitting_checkpoints_only():
    """Make ``mmcv.runner.load_checkpoint`` refuse weights that do not fit.

    mmseg's ``tools/test.py`` loads non-strictly, so another model's
    checkpoint gives metrics of random weights. Scoped to a block because
    backbone ``init_cfg`` loads are partial by design (ImageNet weights
    with a classifier).
    """
    original = mmcv.runner.load_checkpoint
    mmcv.runner.load_checkpoint = checkpoint_io.load_fitting_checkpoint
    try:
        yield
    finally:
        mmcv.runner.load_checkpoint = original


def apply_all():
    """Apply every patch of this module (idempotent)."""
    patch_init_dist()
    patch_build_ddp()
    patch_ddp_forward()
    patch_iter_runner_resume()
    patch_collect_results_cpu()
    patch_build_dataloader_without_workers()
    patch_checkpoint_loading()
    patch_checkpoint_saving()
    patch_train_checkpoint_fit()
