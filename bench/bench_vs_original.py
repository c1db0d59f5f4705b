"""CPU inference latency of EHANet and EAGR: mmseg_face vs the originals.

The original networks are read from snapshots fetched outside the project
(``--mirror DIR``, required): JACKYLUO1991/FaceParsing
``networks/parsenet18.py`` and tegusi/EAGRNet ``networks/EAGR.py``. Their
files are extracted with ``git show`` into a temporary directory and
imported from there; nothing of them enters this tree. EAGRNet's
``inplace_abn`` import is served by a stand-in (BatchNorm2d followed by
LeakyReLU(0.01), InPlace-ABN's default), which keeps its parameter count.

Both sides run the same work: backbone + decode head with every output of
the original (EHANet: final, auxiliary and edge logits; EAGR: parsing and
edge logits), all at stride 4, without the final resize. Random weights,
eval mode, ``torch.inference_mode``, fp32, ``--threads`` intra-op threads.
Ours is timed twice: as built (the same network as the original) and as
``FaceParser`` runs it, after ``optimize_for_inference`` (BatchNorm folded
into the convolutions, channels-last memory). The three take turns run by
run, in rotating order, so that load changes hit all of them.

Usage: ``python bench/bench_vs_original.py --mirror DIR [--sizes 256 512]
[--batches 1 8]``
"""
import argparse
import gc
import importlib.util
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time
import types

import torch
import torch.nn as nn

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
ORIGINALS = {
    'EHANet-R18': dict(
        repo='JACKYLUO1991+FaceParsing',
        path='networks/parsenet18.py',
        config='local_configs/ehanet/'
        'ehanet_r18_8xb2_512x512_200e_celebamask_hq.py'),
    'EAGR': dict(
        repo='tegusi+EAGRNet',
        path='networks/EAGR.py',
        config='local_configs/eagr/eagr_r101_8xb7_473x473_200e_helen.py'),
}


def parse_args():
    parser = argparse.ArgumentParser(
        description='Time EHANet and EAGR inference on CPU against the '
        'original implementations')
    parser.add_argument(
        '--mirror', required=True,
        help='folder holding the fetched snapshots (owner+name/repo)')
    parser.add_argument('--models', nargs='+', default=list(ORIGINALS),
                        choices=list(ORIGINALS))
    parser.add_argument('--sizes', type=int, nargs='+', default=[256, 512])
    parser.add_argument('--batches', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument(
        '--repeats', type=int, default=5,
        help='timed runs per side at batch 1 (batch 8 uses half, >= 2)')
    return parser.parse_args()


def git_dir(mirror, repo):
    """The git directory of a fetched snapshot (bare or with .git)."""
    root = osp.join(mirror, repo, 'repo')
    for candidate in (osp.join(root, '.git'), root):
        if osp.isfile(osp.join(candidate, 'HEAD')):
            return candidate
    raise FileNotFoundError(
        f'no fetched snapshot of {repo.replace("+", "/")} under {root}; '
        'fetch it first')


def load_original_module(mirror, repo, path, workdir):
    """Import ``path`` of the snapshot ``repo`` from a temporary copy."""
    gitdir = git_dir(mirror, repo)
    source = subprocess.run(
        ['git', '--git-dir', gitdir, 'show', f'HEAD:{path}'],
        check=True, capture_output=True, text=True).stdout
    commit = subprocess.run(
        ['git', '--git-dir', gitdir, 'rev-parse', 'HEAD'], check=True,
        capture_output=True, text=True).stdout.strip()
    target = osp.join(workdir, repo.replace('+', '_') + '.py')
    with open(target, 'w') as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(target))[0], target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, commit


def install_inplace_abn_stand_in():
    """Serve ``from inplace_abn import InPlaceABN, InPlaceABNSync``."""

    class ABNStandIn(nn.Sequential):

        def __init__(self, num_features, affine=True, **kwargs):
            super().__init__(
                nn.BatchNorm2d(num_features, affine=affine),
                nn.LeakyReLU(0.01, inplace=True))

    module = types.ModuleType('inplace_abn')
    module.InPlaceABN = module.InPlaceABNSync = ABNStandIn
    sys.modules['inplace_abn'] = module


def build_pair(name, mirror, workdir):
    """({side: callable on an image batch}, original commit, parameters)."""
    from mmseg_face.apis import optimize_for_inference
    from mmseg_face.utils.complexity import (build_segmentor_from_config,
                                             count_parameters)

    spec = ORIGINALS[name]
    if name == 'EAGR':
        install_inplace_abn_stand_in()
    module, commit = load_original_module(mirror, spec['repo'],
                                          spec['path'], workdir)
    ours, _ = build_segmentor_from_config(osp.join(REPO_ROOT, spec['config']))
    if name == 'EHANet-R18':
        original = module.FaceParseNet18(num_classes=19, pretrained=False)
    else:
        original = module.EAGRNet(11)
    original.eval()
    ours_params = count_parameters(ours)
    original_params = count_parameters(original)
    if ours_params != original_params:
        raise RuntimeError(f'{name}: {ours_params:,} parameters here but '
                           f'{original_params:,} in the original')

    def head_outputs(model):
        return lambda img: model.decode_head(model.extract_feat(img))

    sides = {
        'original': original,
        'ours': head_outputs(ours),
        'optimised': head_outputs(optimize_for_inference(ours))
    }
    return sides, commit, ours_params


def time_once(fn, img):
    """(wall ms, process CPU ms) of one call."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    fn(img)
    return ((time.perf_counter() - wall) * 1000,
            (time.process_time() - cpu) * 1000)


def compare(sides, img, warmup, repeats):
    """{side: (median wall ms, median process CPU ms)}, sides taking turns.

    The CPU time of the process is reported next to the wall time because
    it is much less sensitive to other processes sharing the cores.
    """
    names = list(sides)
    times = {name: [] for name in names}
    with torch.inference_mode():
        for step in range(warmup + repeats):
            shift = step % len(names)
            for name in names[shift:] + names[:shift]:
                measured = time_once(sides[name], img)
                if step >= warmup:
                    times[name].append(measured)
    return {
        name: tuple(statistics.median(s) for s in zip(*samples))
        for name, samples in times.items()
    }


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    sys.path.insert(0, REPO_ROOT)
    import mmseg_face  # noqa: F401  (registration)

    rows, sources = [], []
    with tempfile.TemporaryDirectory(prefix='originals_') as workdir:
        for name in args.models:
            sides, commit, params = build_pair(name, args.mirror, workdir)
            spec = ORIGINALS[name]
            sources.append(f'- {name}: {spec["repo"].replace("+", "/")}@'
                           f'{commit[:7]} `{spec["path"]}`, '
                           f'{params:,} parameters on both sides')
            for size in args.sizes:
                for batch in args.batches:
                    torch.manual_seed(0)
                    img = torch.randn(batch, 3, size, size)
                    repeats = args.repeats if batch == 1 else max(
                        2, args.repeats // 2)
                    ms = compare(sides, img, args.warmup, repeats)
                    rows.append((name, size, batch, ms))
                    print(f'{name} {size}x{size} batch {batch}: ' + ', '.join(
                        f'{side} {wall:.0f} ms (CPU {cpu:.0f})'
                        for side, (wall, cpu) in ms.items()),
                          file=sys.stderr, flush=True)
    print(f'torch {torch.__version__}, {args.threads} threads, medians of '
          f'{args.repeats} (batch 1) / {max(2, args.repeats // 2)} (batch 8) '
          f'timed runs after {args.warmup} warm-up; ratios of wall time '
          '(process CPU time in brackets) to the original\n')
    print('| model | input | batch | original (ms) | ours, as built (ms) | '
          'as built / original | ours, optimised (ms) | '
          'optimised / original |')
    print('|---|---|---|---|---|---|---|---|')
    for name, size, batch, ms in rows:
        cells = [f'{ms["original"][0]:,.0f}']
        for side in ('ours', 'optimised'):
            wall_ratio = ms[side][0] / ms['original'][0]
            cpu_ratio = ms[side][1] / ms['original'][1]
            cells += [f'{ms[side][0]:,.0f}',
                      f'{wall_ratio:.2f} ({cpu_ratio:.2f})']
        print(f'| {name} | {size}x{size} | {batch} | ' + ' | '.join(cells) +
              ' |')
    print()
    print('\n'.join(sources))


if __name__ == '__main__':
    main()
