"""Model size and compute of a segmentor config (logic of tools/get_flops.py)."""
import copy

import torch
from mmcv import Config
from mmcv.cnn import get_model_complexity_info
from mmcv.cnn.utils import revert_sync_batchnorm
from torchprofile import profile_macs

from mmseg.models import build_segmentor


def build_segmentor_from_config(config, cfg_options=None):
    """Build a segmentor from a config path for analysis on CPU.

    ``pretrained``/``init_cfg`` are not loaded and SyncBN becomes BN, so no
    weights are fetched and no process group is needed.

    Args:
        config (str | Config): Config path or object.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        tuple[nn.Module, Config]: The segmentor in eval mode and its config.
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else \
        copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.model.pretrained = None
    model = build_segmentor(
        cfg.model, train_cfg=cfg.get('train_cfg'), test_cfg=cfg.get('test_cfg'))
    return revert_sync_batchnorm(model).eval(), cfg


def count_parameters(model):
    """Number of parameters of ``model`` (buffers excluded)."""
    return sum(p.numel() for p in model.parameters())


def complexity(model, shape):
    """Parameters, mmcv FLOPs and torchprofile MACs of one forward pass.

    The pass is ``forward_dummy`` (backbone and decode head, logits resized
    to the input size), as in mmseg's get_flops.py. mmcv's counter counts one
    multiply-add as one FLOP and only the module types it knows;
    torchprofile traces the graph and counts multiply-accumulates of every
    op it supports (matmuls and attention included), so the two differ.

    Args:
        model (nn.Module): A segmentor with ``forward_dummy``.
        shape (tuple[int, int]): Input height and width.

    Returns:
        dict: ``params``, ``mmcv_flops`` and ``torchprofile_macs``.
    """
    height, width = shape
    params = count_parameters(model)
    forward = model.forward
    model.forward = model.forward_dummy
    try:
        with torch.no_grad():
            mmcv_flops, _ = get_model_complexity_info(
                model, (3, height, width), print_per_layer_stat=False,
                as_strings=False)
            macs = profile_macs(model, torch.randn(1, 3, height, width))
    finally:
        model.forward = forward
    return dict(params=params, mmcv_flops=mmcv_flops, torchprofile_macs=macs)


def complexity_report(config, shape, cfg_options=None):
    """The text tools/get_flops.py prints for ``config`` at ``shape``."""
    model, _ = build_segmentor_from_config(config, cfg_options)
    result = complexity(model, shape)
    rule = '=' * 60
    return '\n'.join([
        rule,
        f'Config: {config}',
        f'Input shape: (1, 3, {shape[0]}, {shape[1]}), forward_dummy on CPU',
        f'Parameters: {result["params"]:,} ({result["params"] / 1e6:.2f} M)',
        f'FLOPs (mmcv counter, 1 multiply-add = 1 FLOP, known module types '
        f'only): {result["mmcv_flops"] / 1e9:.2f} GFLOPs',
        f'MACs (torchprofile, all traced ops; 1 MAC = 2 FLOPs): '
        f'{result["torchprofile_macs"] / 1e9:.2f} GMACs',
        rule,
    ])
