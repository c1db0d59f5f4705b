"""Synthetic stand-ins for published checkpoints, built from key fixtures.

``tests/data/published_checkpoints/*.json`` hold the key names, shapes and
dtypes of each original network's state dict, written by
``bench/parity_vs_original.py --write-fixtures`` from the original code.
"""
import json
import os.path as osp
from collections import OrderedDict

import torch

FIXTURES_DIR = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'data',
    'published_checkpoints')


def fixture_keys(name):
    """``[(key, shape, dtype), ...]`` of the original file ``name``."""
    with open(osp.join(FIXTURES_DIR, f'{name}.json')) as file:
        return [(key, tuple(shape), getattr(torch, dtype))
                for key, shape, dtype in json.load(file)['keys']]


def synthetic_original(name, seed=0):
    """A state dict of the original's layout with seeded random values.

    Running variances are positive so that the converted model is usable.
    """
    generator = torch.Generator().manual_seed(seed)
    state_dict = OrderedDict()
    for key, shape, dtype in fixture_keys(name):
        if not dtype.is_floating_point:
            state_dict[key] = torch.zeros(shape, dtype=dtype)
        elif key.endswith('running_var'):
            state_dict[key] = torch.rand(shape, generator=generator) + 0.5
        else:
            fan_in = max(1, int(torch.tensor(shape[1:]).prod())) \
                if len(shape) > 1 else 1
            state_dict[key] = torch.randn(
                shape, generator=generator) / fan_in**0.5
    return state_dict
