"""Cases for ``bench/parity_survey.py``: one module per model family.

Each module defines ``CASES``, a list of :class:`ParityCase`. A case names
the snapshot it needs, builds the original network from the extracted
sources and ours from a config or a class, and says how the original's
weights become ours (a key map from original names to ours). The driver
randomises the original, copies its weights, runs both in eval mode on the
same seeded input and compares their logits.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional, Tuple

import torch


@dataclass
class ParityCase:
    """One original network against ours.

    Args:
        name: row name in the table, e.g. ``'RegSeg exp48-decoder26'``.
        repo: snapshot folder under ``--mirror`` (``owner+name``).
        build_original: ``source_dir -> nn.Module``; may install stand-ins
            for unavailable imports (say which in the module docstring).
        build_ours: ``() -> nn.Module``.
        key_map: original state-dict key -> our key, or None to drop a key
            the original builds but never uses (say why where it is).
        original_logits / our_logits: ``(model, inputs) -> Tensor`` of the
            main output at the same resolution (N, C, H, W).
        input_shape: (N, C, H, W) of the seeded input.
        after_randomize: ``original -> None``, run after the seeded
            randomisation (before the copy), or None.
        modules: module names the original's import puts into
            ``sys.modules``, removed after the case so the next one can use
            the same names.
    """
    name: str
    repo: str
    build_original: Callable
    build_ours: Callable
    key_map: Callable[[str], Optional[str]]
    original_logits: Callable
    our_logits: Callable
    input_shape: Tuple[int, int, int, int] = (1, 3, 512, 512)
    modules: Tuple[str, ...] = field(default_factory=tuple)
    after_randomize: Optional[Callable] = None


def copy_weights(original, ours, key_map):
    """Load the original's state dict into ours through ``key_map``, strictly:
    every key of ours must be filled, with the same shape, exactly once."""
    target = ours.state_dict()
    mapped = {}
    for key, value in original.state_dict().items():
        our_key = key_map(key)
        if our_key is None:
            continue
        if our_key not in target:
            raise KeyError(f'{key} maps to {our_key}, which ours lacks')
        if our_key in mapped:
            raise KeyError(f'{our_key} is filled twice (again from {key})')
        if tuple(target[our_key].shape) != tuple(value.shape):
            raise ValueError(f'{key} {tuple(value.shape)} -> {our_key} '
                             f'{tuple(target[our_key].shape)}')
        mapped[our_key] = value
    missing = sorted(set(target) - set(mapped))
    if missing:
        raise KeyError(f'{len(missing)} of our keys get no weight, e.g. '
                       f'{missing[:5]}')
    ours.load_state_dict(mapped, strict=True)


def relative_error(expected, got):
    """max |got - expected| / max |expected|."""
    return float((got - expected).abs().max() / expected.abs().max())


def seeded_input(shape, seed=1):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))
