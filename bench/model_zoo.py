"""Model zoo table: size, cost and speed of every config in local_configs/.

One run measures every leaf config found under ``local_configs/`` (``_base_``
excluded), building each model from its config with random weights (nothing
is downloaded):

* parameters;
* FLOPs as counted by mmcv's ``get_model_complexity_info`` (which counts one
  multiply-add as one FLOP, like ``tools/get_flops.py``);
* MACs as counted by torchprofile (``profile_macs``);
* CPU latency at batch 1: median of ``--repeats`` timed forward passes after
  one warm-up.

All at ``--shape`` (default 512x512), through ``forward_dummy`` (backbone +
decode head, no auxiliary heads), as ``tools/get_flops.py``.

``--device cuda`` instead measures GPU throughput (images/s, fp32, batch
``--batch-size``) at 256, 512 and 640 and merges it into the GPU JSON. Every
run writes the Markdown table (``--out``) from whatever results exist, so the
GPU columns fill in once a GPU run has been made.

Examples::

    python bench/model_zoo.py                       # CPU columns + table
    python bench/model_zoo.py --device cuda         # GPU columns + table
    python bench/model_zoo.py --filter sfnet --repeats 5
"""
import argparse
import datetime
import json
import logging
import os
import os.path as osp
import platform
import statistics
import time

import torch

import mmseg_face  # noqa: F401  (registration and compat patches)
from mmseg_face.utils.complexity import (build_segmentor_from_config,
                                         complexity)

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
GPU_SIZES = (256, 512, 640)
logger = logging.getLogger('model_zoo')


def parse_args():
    parser = argparse.ArgumentParser(
        description='Parameters, FLOPs, MACs and speed of every config')
    parser.add_argument(
        '--configs-root',
        default=osp.join(REPO_ROOT, 'local_configs'),
        help='folder searched recursively for configs (_base_ skipped)')
    parser.add_argument(
        '--filter', default='', help='only configs whose path contains this')
    parser.add_argument(
        '--device', choices=['cpu', 'cuda'], default='cpu',
        help='cpu: params, FLOPs, MACs, latency; cuda: GPU throughput')
    parser.add_argument(
        '--shape', type=int, nargs=2, default=[512, 512],
        help='H W of the CPU measurements')
    parser.add_argument(
        '--repeats', type=int, default=3, help='timed runs per model')
    parser.add_argument(
        '--batch-size', type=int, default=8, help='GPU throughput batch')
    parser.add_argument(
        '--cpu-json',
        default=osp.join(REPO_ROOT, 'bench', 'results', 'model_zoo_cpu.json'))
    parser.add_argument(
        '--gpu-json',
        default=osp.join(REPO_ROOT, 'bench', 'results', 'model_zoo_gpu.json'))
    parser.add_argument(
        '--out', default=osp.join(REPO_ROOT, 'docs', 'model_zoo.md'))
    parser.add_argument(
        '--table-only', action='store_true',
        help='measure nothing, rewrite the table from the JSON files')
    return parser.parse_args()


def find_configs(root, pattern=''):
    """Leaf config paths under ``root`` relative to the repo, sorted."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != '_base_')
        for name in files:
            path = osp.relpath(osp.join(folder, name), REPO_ROOT)
            if name.endswith('.py') and pattern in path:
                found.append(path)
    return sorted(found)


def build_model(config_path):
    """Random-weight segmentor (nothing is downloaded), eval mode, whose
    ``forward`` is ``forward_dummy`` (image batch in, logits out)."""
    model, _ = build_segmentor_from_config(osp.join(REPO_ROOT, config_path))
    model.forward = model.forward_dummy
    return model


def median_latency_ms(model, img, repeats):
    with torch.no_grad():
        model(img)  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            model(img)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure_cpu(config_path, shape, repeats):
    model = build_model(config_path)
    result = complexity(model, shape)
    img = torch.randn(1, 3, *shape)
    return dict(
        params=result['params'],
        flops=result['mmcv_flops'],
        macs=result['torchprofile_macs'],
        latency_ms=median_latency_ms(model, img, repeats))


def measure_gpu(config_path, batch_size, repeats):
    model = build_model(config_path).cuda()
    row = {}
    with torch.no_grad():
        for size in GPU_SIZES:
            img = torch.randn(batch_size, 3, size, size, device='cuda')
            for _ in range(3):  # warm-up (cudnn autotuning, allocator)
                model(img)
            torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(repeats):
                model(img)
            torch.cuda.synchronize()
            elapsed = time.perf_counter() - start
            row[f'fps_{size}'] = batch_size * repeats / elapsed
    return row


def load_json(path):
    if not osp.exists(path):
        return dict(meta={}, results={})
    with open(path) as f:
        return json.load(f)


def save_json(data, path):
    os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=2, sort_keys=True)
    os.replace(tmp, path)


def cpu_description():
    name = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    name = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return f'{name}, {torch.get_num_threads()} threads'


def fmt(value, scale=1.0, digits=2):
    if value is None:
        return '–'
    if isinstance(value, str):
        return value
    return f'{value / scale:.{digits}f}'


def render_table(configs, cpu, gpu):
    cpu_meta, gpu_meta = cpu.get('meta', {}), gpu.get('meta', {})
    lines = [
        '# Model zoo', '',
        'Generated by `bench/model_zoo.py` (random weights, '
        '`forward_dummy`: backbone + decode head, no auxiliary heads).', '',
        f"- CPU columns: {cpu_meta.get('date', 'not run')}, "
        f"{cpu_meta.get('hardware', '–')}, torch "
        f"{cpu_meta.get('torch', '–')}; input "
        f"{cpu_meta.get('shape', '–')}, batch 1, latency = median of "
        f"{cpu_meta.get('repeats', '–')} runs after one warm-up. Runs "
        '(1-min load average at start; the machine was shared, so '
        'latencies are only roughly comparable): ' + '; '.join(
            f"{run['date']} {run['filter']} ({run['configs']} configs, "
            f"load {run['load_average']})" for run in cpu.get('runs', [])) +
        '.',
        f"- GPU columns: {gpu_meta.get('date', 'not run yet')}"
        + (f", {gpu_meta['hardware']}, fp32, batch "
           f"{gpu_meta['batch_size']}, images/s" if gpu_meta else '') + '.',
        '- Params: all parameters, auxiliary (training-only) heads '
        'included, as mmseg reports them.',
        '- FLOPs: mmcv `get_model_complexity_info`, which counts a '
        'multiply-add as one FLOP (as `tools/get_flops.py`). MACs: '
        'torchprofile `profile_macs` (also counts attention matmuls, '
        'interpolation and other ops mmcv skips).', '',
        '| Config | Params (M) | FLOPs (G, mmcv) | MACs (G, torchprofile) '
        '| CPU latency (ms) | GPU img/s 256² | GPU img/s 512² '
        '| GPU img/s 640² |',
        '|---|---:|---:|---:|---:|---:|---:|---:|',
    ]
    for path in configs:
        c = cpu.get('results', {}).get(path, {})
        g = gpu.get('results', {}).get(path, {})
        if 'error' in c:
            lines.append(f"| `{path}` | error: {c['error']} |||||||")
            continue
        lines.append('| `{}` | {} | {} | {} | {} | {} | {} | {} |'.format(
            path, fmt(c.get('params'), 1e6), fmt(c.get('flops'), 1e9),
            fmt(c.get('macs'), 1e9), fmt(c.get('latency_ms'), digits=0),
            *(fmt(g.get(f'fps_{s}'), digits=1) for s in GPU_SIZES)))
    return '\n'.join(lines) + '\n'


def run_measurements(args, configs):
    """Measure ``configs`` and merge the rows into the CPU or GPU JSON."""
    today = datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y-%m-%d %H:%M UTC')
    if args.device == 'cuda':
        if not torch.cuda.is_available():
            raise SystemExit('--device cuda given but CUDA is not available')
        torch.backends.cudnn.benchmark = True
        json_path = args.gpu_json
        data = load_json(json_path)
        data['meta'] = dict(
            date=today, hardware=torch.cuda.get_device_name(0),
            batch_size=args.batch_size, torch=torch.__version__)
    else:
        json_path = args.cpu_json
        data = load_json(json_path)
        data['meta'] = dict(
            date=today, hardware=cpu_description(),
            shape='x'.join(map(str, args.shape)), repeats=args.repeats,
            torch=torch.__version__)
        # Other processes on the machine skew latency: record the load of
        # every run, since a filtered run only refreshes some rows.
        data.setdefault('runs', []).append(
            dict(date=today, filter=args.filter or '(all)',
                 configs=len(configs),
                 load_average=round(os.getloadavg()[0], 1)))

    for path in configs:
        start = time.perf_counter()
        try:
            if args.device == 'cuda':
                row = measure_gpu(path, args.batch_size, max(args.repeats, 10))
            else:
                row = measure_cpu(path, args.shape, args.repeats)
        except Exception as exc:  # one broken config must not stop the table
            logger.exception('%s failed', path)
            row = dict(error=f'{type(exc).__name__}: {exc}'[:200])
        data['results'][path] = row
        save_json(data, json_path)
        logger.info('%s: %s (%.0f s)', path, row,
                    time.perf_counter() - start)


def main():
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    if not args.table_only:
        configs = find_configs(args.configs_root, args.filter)
        if not configs:
            raise SystemExit(f'no config under {args.configs_root} matches '
                             f'{args.filter!r}')
        run_measurements(args, configs)

    # The table always covers every config, measured now or earlier.
    table = render_table(
        find_configs(args.configs_root), load_json(args.cpu_json),
        load_json(args.gpu_json))
    os.makedirs(osp.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        f.write(table)
    logger.info('wrote %s', args.out)


if __name__ == '__main__':
    main()
