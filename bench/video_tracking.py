"""CPU time per video frame of :class:`VideoFaceParser`, stage by stage.

Frames are drawn faces moving on a larger canvas (``compose_wild_scene``),
EHANet-R18 with random weights parses 512² crops (``farl`` alignment). The
detector runs on every frame for its time, but the faces handed on are the
drawn ones (a random-weight benchmark needs no real detections). Stages:
detection (MTCNN), tracking (matching + landmark filter), parsing (align +
model), smoothing of the probabilities (with the bookkeeping of
``parse_frame``) and paste-back. ``own share`` is the part of the total that
is not parsing, as the issue's pipeline target counts it. Times are CPU
time of this process (``time.process_time``) on one torch thread by default:
on a shared machine, waiting threads would count as work otherwise.

Usage: ``python bench/video_tracking.py [--frames 6] [--threads 2]``
(prints a markdown table; recorded in ``docs/benchmarks.md``)
"""
import argparse
import os.path as osp
import statistics
import sys
import time

import numpy as np
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)
CONFIG = osp.join(REPO_ROOT, 'local_configs', 'ehanet',
                  'ehanet_r18_8xb2_512x512_200e_celebamask_hq.py')
STAGES = ('detect', 'track', 'parse', 'paste')


def parse_args():
    parser = argparse.ArgumentParser(
        description='Time VideoFaceParser per frame on the CPU')
    parser.add_argument('--frames', type=int, default=6,
                        help='timed frames per setting (after one warm-up)')
    parser.add_argument('--threads', type=int, default=1)
    return parser.parse_args()


def clip(size, num_faces, num_frames):
    """Frames and their drawn faces, moving a few pixels per frame."""
    from mmseg_face.apis import Face
    from mmseg_face.datasets.sample_faces import compose_wild_scene
    width, height = size
    scale = height / 4 / 256 * 1.5
    for index in range(num_frames):
        placements = [(2 * np.sin(index / 3), scale,
                       ((k + 0.5) * width / num_faces + 3 * index,
                        height / 2 + index)) for k in range(num_faces)]
        scene = compose_wild_scene((height, width), placements, seed=0)
        yield scene['image'], [
            Face(box=tuple(box), landmarks=points)
            for box, points in zip(scene['boxes'], scene['landmarks'])
        ]


class Timed:
    """Wraps a callable and adds its run time to ``times[stage]``."""

    def __init__(self, fn, times, stage):
        self.fn, self.times, self.stage = fn, times, stage

    def __call__(self, *args, **kwargs):
        start = time.process_time()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.times[self.stage] += time.process_time() - start


def time_setting(parser, size, num_faces, num_frames):
    import mmseg_face.apis.face_tracking as face_tracking
    from mmseg_face.apis import VideoFaceParser

    video_parser = VideoFaceParser(parser)
    per_frame = []
    paste = face_tracking.paste_face_argmax
    detect = parser.detector.detect
    update = video_parser.tracker.update
    parse_crops = parser.parse_crops
    for index, (frame, faces) in enumerate(clip(size, num_faces,
                                                num_frames + 1)):
        times = dict.fromkeys(STAGES, 0.0)
        video_parser.tracker.update = Timed(update, times, 'track')
        parser.parse_crops = Timed(parse_crops, times, 'parse')
        face_tracking.paste_face_argmax = Timed(paste, times, 'paste')
        start = time.process_time()
        Timed(detect, times, 'detect')(frame)
        video_parser.parse_frame(frame, faces)
        times['total'] = time.process_time() - start
        face_tracking.paste_face_argmax = paste
        parser.parse_crops = parse_crops
        if index:  # the first frame warms up
            per_frame.append(times)
    # Means, not medians, so that the stages add up to the total.
    return {
        key: statistics.mean(t[key] for t in per_frame)
        for key in per_frame[0]
    }


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    from mmseg_face.apis import FaceParser
    parser = FaceParser(CONFIG, alignment='farl')
    print(f'VideoFaceParser, EHANet-R18 at 512², CPU, {args.threads} '
          f'thread(s), mean of {args.frames} frames (CPU ms)\n')
    print('| frame | faces | detect | track | parse | smooth + other | '
          'paste | total | own share |')
    print('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for size in ((640, 480), (1920, 1080)):
        for num_faces in (1, 4):
            t = time_setting(parser, size, num_faces, args.frames)
            other = t['total'] - sum(t[s] for s in STAGES)
            own = t['total'] - t['parse']
            print(f'| {size[0]}×{size[1]} | {num_faces} | '
                  f'{1e3 * t["detect"]:.0f} | {1e3 * t["track"]:.2f} | '
                  f'{1e3 * t["parse"]:.0f} | {1e3 * other:.1f} | '
                  f'{1e3 * t["paste"]:.0f} | {1e3 * t["total"]:.0f} | '
                  f'{100 * own / t["total"]:.1f}% |', flush=True)


if __name__ == '__main__':
    main()
