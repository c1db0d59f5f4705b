"""Peak memory of ``FaceParser.parse`` on large images, before and after.

Each case runs in a fresh subprocess, which builds the parser (random
weights of ``--config``), makes a smooth ``N x N`` BGR image and parses it:

* ``before``: mmseg's one-shot path, ``inference_segmentor``, which resizes
  the logits of every class to the full image, then takes their softmax
  (what ``FaceParser.parse`` did before the banded path);
* ``after``: ``FaceParser.parse`` (logits resized, normalised and reduced
  to labels one band of rows at a time).

The table shows the process's peak resident memory (``ru_maxrss``) and how
much the parse added to what the process held before it (model, image).
``before`` cases run under an address-space cap (``--cap-gb``) so that a
10000 x 10000 image cannot take the machine's memory from other work; a
refused allocation is shown with the size torch asked for.

Example::

    python bench/parse_memory.py --sizes 1000 4000 10000
"""
import argparse
import json
import os.path as osp
import re
import resource
import subprocess
import sys
import time

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = osp.join(
    'local_configs', 'ehanet', 'ehanet_r18_8xb2_512x512_200e_celebamask_hq.py')


def parse_args():
    parser = argparse.ArgumentParser(
        description='Peak memory of FaceParser.parse on large images')
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument(
        '--sizes', type=int, nargs='+', default=[1000, 4000, 10000],
        help='image sides')
    parser.add_argument(
        '--cap-gb', type=float, default=8.0,
        help='address-space limit of the before cases, in GB')
    parser.add_argument('--case', nargs=2, metavar=('SIZE', 'PATH'),
                        help=argparse.SUPPRESS)  # one child run
    return parser.parse_args()


def _max_rss_bytes():
    # Linux reports kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_case(config, size, path):
    """Child: parse one image and print a JSON result line."""
    import cv2
    import numpy as np
    import torch
    from mmseg.apis import inference_segmentor

    from mmseg_face.apis import FaceParser

    torch.set_num_threads(2)
    parser = FaceParser(config, device='cpu')
    rng = np.random.default_rng(0)
    coarse = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    img = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    baseline = _max_rss_bytes()
    start = time.perf_counter()
    try:
        if path == 'before':
            labels = np.asarray(inference_segmentor(parser.model, [img])[0])
        else:
            labels = parser.parse(img)
    except (RuntimeError, MemoryError) as error:
        asked = re.search(r'allocate (\d+) bytes', str(error))
        print(json.dumps(dict(refused=int(asked.group(1)) if asked else -1)))
        return
    print(json.dumps(dict(
        peak=_max_rss_bytes(), added=_max_rss_bytes() - baseline,
        seconds=time.perf_counter() - start, classes=int(labels.max()) + 1)))


def _cap_address_space(gigabytes):
    limit = int(gigabytes * 1e9)
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main():
    args = parse_args()
    if args.case:
        run_case(args.config, int(args.case[0]), args.case[1])
        return
    rows = []
    for size in args.sizes:
        for path in ('before', 'after'):
            command = [sys.executable, __file__, '--config', args.config,
                       '--case', str(size), path]
            result = subprocess.run(
                command, cwd=REPO_ROOT, capture_output=True, text=True,
                preexec_fn=_cap_address_space(args.cap_gb)
                if path == 'before' else None)
            lines = [line for line in result.stdout.splitlines()
                     if line.startswith('{')]
            if result.returncode or not lines:
                raise SystemExit(f'case {size} {path} failed:\n'
                                 f'{result.stderr[-3000:]}')
            rows.append((size, path, json.loads(lines[-1])))
    print(f'FaceParser.parse, {args.config} (random weights), 2 threads')
    print(f'{"image":>13} {"path":>7} {"peak RSS":>10} {"added":>10} '
          f'{"time":>8}')
    for size, path, row in rows:
        image = f'{size}x{size}'
        if 'refused' in row:
            print(f'{image:>13} {path:>7} {"> cap":>10} '
                  f'asked {row["refused"] / 1e9:.1f} GB at once '
                  f'(cap {args.cap_gb:g} GB)')
            continue
        print(f'{image:>13} {path:>7} {row["peak"] / 1e9:>8.2f} GB '
              f'{row["added"] / 1e9:>7.2f} GB {row["seconds"]:>7.1f}s')


if __name__ == '__main__':
    main()
