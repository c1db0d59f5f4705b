"""Inference latency and throughput of a segmentor (logic of tools/benchmark.py)."""
import gc
import statistics
import time

import torch


def _synchronize(device):
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)


def time_inference(model, shape, batch_size, device='cpu', warmup=5,
                   repeats=20):
    """Time ``model.encode_decode`` (logits at input size) on random input.

    Args:
        model (nn.Module): Segmentor in eval mode, already on ``device``.
        shape (tuple[int, int]): Input height and width.
        batch_size (int): Images per forward pass.
        device (str): 'cpu' or a CUDA device.
        warmup (int): Untimed passes first (lazy init, allocator, cudnn).
        repeats (int): Timed passes.

    Returns:
        dict: ``times_ms`` (list), ``median_ms``, ``min_ms``, ``max_ms``,
        ``iqr_ms`` and ``images_per_s`` (from the median).
    """
    if warmup < 0 or repeats < 1:
        raise ValueError(f'need warmup >= 0 and repeats >= 1, got '
                         f'{warmup} and {repeats}')
    img = torch.randn(batch_size, 3, *shape, device=device)
    times = []
    with torch.inference_mode():
        for step in range(warmup + repeats):
            gc.collect()
            _synchronize(device)
            start = time.perf_counter()
            model.encode_decode(img, None)
            _synchronize(device)
            if step >= warmup:
                times.append((time.perf_counter() - start) * 1e3)
    median = statistics.median(times)
    quartiles = statistics.quantiles(times, n=4) if len(times) > 1 else \
        [median] * 3
    return dict(times_ms=times, median_ms=median, min_ms=min(times),
                max_ms=max(times), iqr_ms=quartiles[2] - quartiles[0],
                images_per_s=batch_size * 1e3 / median)


def format_table(rows):
    """Render benchmark rows (dicts with shape, batch and timings) as text."""
    header = (f'{"input":>11} {"batch":>5} {"median ms":>10} {"IQR ms":>8} '
              f'{"min-max ms":>17} {"images/s":>9}')
    lines = [header, '-' * len(header)]
    for row in rows:
        span = f'{row["min_ms"]:.1f}-{row["max_ms"]:.1f}'
        lines.append(
            f'{row["shape"][0]:>5}x{row["shape"][1]:<5} {row["batch"]:>5} '
            f'{row["median_ms"]:>10.1f} {row["iqr_ms"]:>8.1f} {span:>17} '
            f'{row["images_per_s"]:>9.2f}')
    return '\n'.join(lines)
