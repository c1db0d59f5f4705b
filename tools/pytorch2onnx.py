"""Export a face parser to ONNX (logits at the input resolution).

Usage::

    python tools/pytorch2onnx.py CONFIG CKPT --shape 512 512 \
        [--dynamic-batch] [--output-file model.onnx] [--verify]

The graph takes a normalised ``(N, 3, H, W)`` float32 image batch named
``input`` and returns ``logits`` of shape ``(N, num_classes, H, W)``. SyncBN
is converted to BN first. ``--verify`` runs onnxruntime on a random input and
fails unless the logits match PyTorch's within 1e-4 and at least 99.9% of
the argmax labels agree.
"""
import argparse

from mmseg_face.utils.cli_args import int_at_least


def parse_args():
    parser = argparse.ArgumentParser(
        description='Export a face parser to ONNX')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint', nargs='?', default=None,
        help='checkpoint file (omit to export random weights)')
    parser.add_argument(
        '--shape', type=int_at_least(1), nargs='+', default=[512, 512],
        help='input size: H W, or one value for a square input')
    parser.add_argument(
        '--dynamic-batch', action='store_true',
        help='make the batch axis dynamic')
    parser.add_argument(
        '--output-file', default='tmp.onnx', help='output .onnx file')
    parser.add_argument(
        '--opset-version', type=int, default=11, help='ONNX opset version')
    parser.add_argument(
        '--verify', action='store_true',
        help='compare onnxruntime outputs with PyTorch')
    args = parser.parse_args()
    if len(args.shape) not in (1, 2):
        parser.error('--shape takes one or two integers')
    return args


def main():
    args = parse_args()
    shape = tuple((args.shape * 2)[:2])
    import mmseg_face  # noqa: F401  (registers the face models and datasets)
    from mmseg_face.apis import (OnnxExportError, OnnxMismatchError,
                                 export_onnx, verify_onnx)
    from mmseg_face.utils.launch import exit_on_user_error

    with exit_on_user_error(
            'tools/pytorch2onnx.py',
            input_errors=(OnnxMismatchError, OnnxExportError)):
        parser = export_onnx(
            args.config,
            args.checkpoint,
            args.output_file,
            shape=shape,
            dynamic_batch=args.dynamic_batch,
            opset_version=args.opset_version)
        print(f'exported {args.output_file}: input (N, 3, {shape[0]}, '
              f'{shape[1]}) -> logits (N, {len(parser.classes)}, {shape[0]}, '
              f'{shape[1]})')
        if args.verify:
            report = verify_onnx(
                parser,
                args.output_file,
                shape,
                batch_size=2 if args.dynamic_batch else 1)
            print(f'onnxruntime matches PyTorch: max |logit diff| '
                  f'{report["max_abs_diff"]:.2e}, argmax agreement '
                  f'{report["argmax_agreement"]:.4%}')


if __name__ == '__main__':
    main()
