"""Multiply-accumulates of every convolution, counted during forward passes
(the conv-only MACs that models.md quotes for each network)."""
import torch.nn as nn


def conv_macs_hooks(model, counter):
    """Append each conv's MACs to ``counter``; returns the hook handles."""

    def hook(module, inputs, output):
        kernel = module.weight[0].numel()  # (C_in / groups) * kH * kW
        counter.append(output.numel() * kernel)

    return [
        m.register_forward_hook(hook) for m in model.modules()
        if isinstance(m, nn.Conv2d)
    ]
