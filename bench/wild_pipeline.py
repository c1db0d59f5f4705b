"""CPU time per image of FaceParser.parse_wild, stage by stage.

Detection (MTCNN, the default detector), alignment (cutting the crops),
parsing (the model on all crops, one batch) and paste-back (bilinear inverse
warp of the probabilities, then the argmax), for 1 and 4 faces at 640x480
and 1920x1080. The faces are scikit-image's public-domain astronaut photo
(a test dependency), its head tiled onto a grey canvas at a size that fits;
the model is EHANet-R18 with random weights at 512x512 crops, as
``FaceParser`` runs it (BatchNorm folded, channels-last), with the
CelebA-HQ alignment of its config.

The pipeline's own share is everything but parsing, over the total. Each
cell is the median of ``--repeats`` runs after one warm-up, as process CPU
time and wall time. One torch thread by default: on a shared, loaded
machine the waiting threads of a parallel region spin and count as CPU
time, which measures the load, not the work.

Usage: ``python bench/wild_pipeline.py [--threads 1] [--repeats 3]
[--alignment farl]``
"""
import argparse
import os.path as osp
import statistics
import sys
import time

import cv2
import numpy as np
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(REPO_ROOT, 'local_configs', 'ehanet',
                  'ehanet_r18_8xb2_512x512_200e_celebamask_hq.py')
SIZES = ((640, 480), (1920, 1080))
STAGES = ('detection', 'alignment', 'parsing', 'paste-back')
# The astronaut's head in the 512x512 photo, with hair and chin.
HEAD = (140, 30, 310, 200)


def parse_args():
    parser = argparse.ArgumentParser(
        description='CPU time per stage of parse_wild')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--faces', type=int, nargs='+', default=[1, 4])
    parser.add_argument(
        '--alignment', choices=('celeba_hq', 'farl', 'box'),
        help='crop preset (default: the config\'s, celeba_hq)')
    return parser.parse_args()


def make_image(width, height, num_faces):
    """A grey canvas with ``num_faces`` astronaut heads side by side."""
    from skimage import data
    head = np.ascontiguousarray(data.astronaut()[..., ::-1])
    x1, y1, x2, y2 = HEAD
    head = head[y1:y2, x1:x2]
    canvas = np.full((height, width, 3), 120, np.uint8)
    side = int(min(height * 0.6, width * 0.9 / num_faces))
    head = cv2.resize(head, (side, side), interpolation=cv2.INTER_AREA)
    gap = (width - num_faces * side) // (num_faces + 1)
    top = (height - side) // 2
    for index in range(num_faces):
        left = gap + index * (side + gap)
        canvas[top:top + side, left:left + side] = head
    return canvas


def timed(fn):
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def run_once(parser, img):
    """Seconds of CPU and wall time per stage, and the faces found."""
    from mmseg_face.apis import align_face, paste_face_argmax
    faces, *detection = timed(lambda: parser.detector.detect_batch([img])[0])
    aligned, *alignment = timed(lambda: [
        align_face(img, face, parser.alignment, parser.crop_size,
                   parser.margin) for face in faces
    ])
    probs, *parsing = timed(
        lambda: parser._infer_probs([crop for crop, _ in aligned]))
    _, *paste = timed(lambda: paste_face_argmax(
        img.shape[:2], [(p, warp) for p, (_, warp) in zip(probs, aligned)]))
    return dict(zip(STAGES, (detection, alignment, parsing, paste))), faces


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    sys.path.insert(0, REPO_ROOT)
    from mmseg_face.apis import FaceParser
    parser = FaceParser(CONFIG, None, crop_size=512, batch_size=4,
                        alignment=args.alignment)
    print(f'EHANet-R18, random weights, {parser.crop_size}x{parser.crop_size}'
          f' crops, alignment {parser.alignment}, {args.threads} threads, '
          f'median of {args.repeats} runs (CPU ms; wall ms)\n')
    header = ['image', 'faces'] + list(STAGES) + [
        'total', 'pipeline share (CPU)', 'pipeline share (wall)'
    ]
    print('| ' + ' | '.join(header) + ' |')
    print('|' + '---|' * len(header))
    for width, height in SIZES:
        for num_faces in args.faces:
            img = make_image(width, height, num_faces)
            run_once(parser, img)  # warm-up
            runs = []
            for _ in range(args.repeats):
                times, faces = run_once(parser, img)
                runs.append(times)
            if len(faces) != num_faces:
                raise RuntimeError(f'found {len(faces)} faces in the '
                                   f'{width}x{height} image of {num_faces}')
            cpu = {s: statistics.median(r[s][0] for r in runs)
                   for s in STAGES}
            wall = {s: statistics.median(r[s][1] for r in runs)
                    for s in STAGES}
            cells = [f'{1000 * cpu[s]:,.0f}; {1000 * wall[s]:,.0f}'
                     for s in STAGES]
            total_cpu, total_wall = sum(cpu.values()), sum(wall.values())
            share_cpu = 1 - cpu['parsing'] / total_cpu
            share_wall = 1 - wall['parsing'] / total_wall
            row = [f'{width}x{height}', str(num_faces)] + cells + [
                f'{1000 * total_cpu:,.0f}; {1000 * total_wall:,.0f}',
                f'{100 * share_cpu:.1f}%', f'{100 * share_wall:.1f}%'
            ]
            print('| ' + ' | '.join(row) + ' |', flush=True)


if __name__ == '__main__':
    main()
