"""Parse faces in an image, a folder of images or a video.

Usage::

    python tools/parse_faces.py CONFIG CKPT INPUT --out DIR [options]
    python tools/parse_faces.py --model NAME_OR_FILE INPUT --out DIR [options]
    python tools/parse_faces.py --list-models

    options: [--masks skin,hair] [--detect-faces] [--boxes BOXES.json] \
        [--detector mtcnn|haar] [--alignment celeba_hq|farl|box] \
        [--device cpu] [--no-optimize] [--model-name NAME] \
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

``--model`` names a published model (``--list-models`` lists them), which is
downloaded and converted once into ``$MMSEG_FACE_HOME`` (default
``~/.cache/mmseg_face``), or a local copy of its original file (offline;
``--model-name`` says which model it is when its name does not).

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
        description='Parse faces in an image, a folder or a video',
        usage='%(prog)s [CONFIG CHECKPOINT | --model NAME_OR_FILE] INPUT '
        '--out DIR [options]\n       %(prog)s --list-models')
    parser.add_argument(
        'paths', nargs='*', metavar='CONFIG CHECKPOINT INPUT',
        help='model config file, checkpoint file, and the image file, folder '
        'of images, video file or webcam index (only INPUT with --model)')
    parser.add_argument('--out', help='output folder')
    parser.add_argument(
        '--model', metavar='NAME_OR_FILE',
        help='a published model (see --list-models), downloaded and '
        'converted once into $MMSEG_FACE_HOME, or a local copy of its '
        'original file, instead of CONFIG CHECKPOINT')
    parser.add_argument(
        '--model-name', metavar='NAME',
        help='which published model the --model file is, when its file name '
        'does not say')
    parser.add_argument(
        '--list-models', action='store_true',
        help='list the published models and exit')
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
    # Positionals may come between options (INPUT after --model NAME).
    args = parser.parse_intermixed_args()
    if args.list_models:
        return args
    expected = 1 if args.model else 3
    if len(args.paths) != expected:
        wanted = 'INPUT' if args.model else 'CONFIG CHECKPOINT INPUT'
        parser.error(f'expected {wanted}, got {len(args.paths)} positional '
                     'arguments')
    if args.model_name and not args.model:
        parser.error('--model-name needs --model FILE')
    if args.out is None:
        parser.error('the following arguments are required: --out')
    args.config, args.checkpoint = (None, None) if args.model else \
        args.paths[:2]
    args.input = args.paths[-1]
    return args


def input_source(text):
    """A webcam index for a whole number that names no file, else the path."""
    return int(text) if text.isdigit() and not osp.exists(text) else text


def main():
    args = parse_args()
    if args.list_models:
        from mmseg_face.apis.published_models import format_published_models
        print(format_published_models())
        return
    import torch

    from mmseg_face.apis import (FaceParser, HaarCascadeFaceDetector,
                                 ImageReadError, InferenceOptimizationError,
                                 OutputWriteError, ParseInputError,
                                 PublishedModelError, VideoReadError,
                                 load_boxes, parse_to_dir)
    from mmseg_face.utils.download import DownloadError
    from mmseg_face.utils.launch import exit_on_user_error

    masks = [name.strip() for name in args.masks.split(',') if name.strip()]
    input_errors = (InferenceOptimizationError, ParseInputError,
                    OutputWriteError, ImageReadError, VideoReadError,
                    PublishedModelError, DownloadError)
    with exit_on_user_error('tools/parse_faces.py',
                            input_errors=input_errors):
        # Everything the arguments name is checked before the model loads.
        source = input_source(args.input)
        named = [('config', args.config), ('checkpoint', args.checkpoint)]
        if not isinstance(source, int):
            named.append(('input', source))
        for what, path in named:
            if path is not None and not osp.exists(path):
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
        options = dict(
            device=args.device,
            batch_size=args.batch_size,
            margin=args.margin,
            optimize=not args.no_optimize,
            detector=HaarCascadeFaceDetector()
            if args.detector == 'haar' else None,
            alignment=args.alignment)
        parser = FaceParser.from_pretrained(
            args.model, model_name=args.model_name, **options) \
            if args.model else \
            FaceParser(args.config, args.checkpoint, **options)
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
