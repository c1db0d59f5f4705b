"""Parse faces in an image, a folder of images or a video.

Usage::

    python tools/parse_faces.py CONFIG CKPT INPUT --out DIR \
        [--masks skin,hair] [--detect-faces] [--boxes BOXES.json] \
        [--detector mtcnn|haar] [--alignment celeba_hq|farl|box] \
        [--device cpu] [--no-optimize] \
        [--prob-smoothing 0.6] [--landmark-smoothing 0.5] [--max-frames N]

INPUT is an image, a folder of images, a video file, or a webcam index (a
whole number such as ``0``, unless a file of that name exists).

Writes ``DIR/labels/<name>.png`` (class ids), ``DIR/overlays/<name>.png``
(colour overlay with the dataset palette) and, with ``--masks``,
``DIR/masks/<class>/<name>.png`` (0/255). A video or webcam also gives
``DIR/<stem>_overlay.mp4`` and its frames per second in the summary; with
``--detect-faces`` its faces are tracked and smoothed from frame to frame.
Unreadable inputs are reported and skipped; the exit status is 1 when any
input failed, also when a video ends before the frame count of its header.
A webcam runs until ``--max-frames`` or Ctrl-C.

``--boxes`` gives face boxes instead of detecting them, as JSON
``{"group.jpg": [[x1, y1, x2, y2], ...], ...}`` (video frames are keyed
``<video stem>_<frame:06d>``).
"""
import argparse
import os.path as osp
import sys

from mmseg_face.utils.cli_args import finite_float, int_at_least


def parse_args():
    parser = argparse.ArgumentParser(
        description='Parse faces in an image, a folder or a video')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='model checkpoint file')
    parser.add_argument(
        'input',
        help='image file, folder of images, video file or webcam index')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--masks', default='',
        help='comma-separated class names to write binary masks for, '
        'e.g. skin,hair')
    parser.add_argument(
        '--detect-faces', action='store_true',
        help='detect, align and parse every face, then paste the labels '
        'into the full image (default: each image is one cropped face)')
    parser.add_argument(
        '--boxes',
        help='JSON file of face boxes per input, used instead of detection')
    parser.add_argument(
        '--detector', choices=('mtcnn', 'haar'), default='mtcnn',
        help='face detector of --detect-faces: MTCNN with five landmarks '
        '(default) or OpenCV\'s Haar cascade (boxes only)')
    parser.add_argument(
        '--alignment', choices=('celeba_hq', 'farl', 'box'),
        help='how faces are cropped (default: the one the model was trained '
        'on, from its checkpoint or config; box when neither says)')
    parser.add_argument(
        '--margin', type=finite_float(0), default=0.5,
        help='context around a face box of the box alignment, fraction of '
        'its size per side')
    parser.add_argument('--device', default='cpu', help='torch device')
    parser.add_argument(
        '--batch-size', type=int_at_least(1), default=4,
        help='images per forward pass')
    parser.add_argument(
        '--opacity', type=finite_float(0, 1, low_inclusive=False),
        default=0.5, help='overlay opacity, in (0, 1]')
    parser.add_argument(
        '--prob-smoothing', type=finite_float(0, 1, high_inclusive=False), default=0.6,
        help='video in the wild (--detect-faces or --boxes): weight of the '
        'past in the moving average of each face\'s class probabilities, in '
        '[0, 1); 0 turns it off')
    parser.add_argument(
        '--landmark-smoothing', type=finite_float(0, 1, high_inclusive=False), default=0.5,
        help='video in the wild: weight of the past in the filter of '
        'each face\'s box and landmarks, in [0, 1); 0 turns it off')
    parser.add_argument(
        '--max-frames', type=int_at_least(1),
        help='stop a video or webcam after this many frames')
    parser.add_argument(
        '--no-optimize', action='store_true',
        help='run the model as built, without folding BatchNorm into the '
        'convolutions and channels-last memory')
    return parser.parse_args()


def input_source(text):
    """A webcam index for a whole number that names no file, else the path."""
    return int(text) if text.isdigit() and not osp.exists(text) else text


def main():
    args = parse_args()
    import torch

    from mmseg_face.apis import (FaceParser, HaarCascadeFaceDetector,
                                 ImageReadError, InferenceOptimizationError,
                                 OutputWriteError, ParseInputError,
                                 VideoReadError, load_boxes, parse_to_dir)
    from mmseg_face.utils.launch import exit_on_user_error

    masks = [name.strip() for name in args.masks.split(',') if name.strip()]
    input_errors = (InferenceOptimizationError, ParseInputError,
                    OutputWriteError, ImageReadError, VideoReadError)
    with exit_on_user_error('tools/parse_faces.py',
                            input_errors=input_errors):
        # Everything the arguments name is checked before the model loads.
        source = input_source(args.input)
        named = [('config', args.config), ('checkpoint', args.checkpoint)]
        if not isinstance(source, int):
            named.append(('input', source))
        for what, path in named:
            if not osp.exists(path):
                raise FileNotFoundError(f'{what} {path} does not exist')
        try:
            device = torch.device(args.device)
        except RuntimeError as error:
            raise ParseInputError(f'--device {args.device}: {error}') \
                from error
        if device.type == 'cuda' and not torch.cuda.is_available():
            raise ParseInputError(f'--device {args.device}, but CUDA is not '
                                  f'available')
        boxes = load_boxes(args.boxes) if args.boxes else None
        parser = FaceParser(
            args.config,
            args.checkpoint,
            device=args.device,
            batch_size=args.batch_size,
            margin=args.margin,
            optimize=not args.no_optimize,
            detector=HaarCascadeFaceDetector()
            if args.detector == 'haar' else None,
            alignment=args.alignment)
        summary = parse_to_dir(
            parser,
            source,
            args.out,
            masks=masks,
            detect_faces=args.detect_faces,
            boxes=boxes,
            opacity=args.opacity,
            prob_smoothing=args.prob_smoothing,
            landmark_smoothing=args.landmark_smoothing,
            max_frames=args.max_frames)
    print(summary.format())
    print(f'outputs in {args.out}')
    sys.exit(1 if summary.failed else 0)


if __name__ == '__main__':
    main()
