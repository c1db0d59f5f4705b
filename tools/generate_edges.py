"""Write edge maps of converted label maps (offline edge targets).

Writes ``<data_root>/edges/<name>.png`` with the values of the
``GenerateFaceEdge`` transform: 0 non-edge, 1 edge, 255 ignore.

Example::

    python tools/generate_edges.py data/helen --mode eagr
"""
import argparse

from mmseg_face.datasets.converters import generate_edge_maps
from mmseg_face.utils.launch import (add_conversion_arguments,
                                     conversion_options, run_conversion)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Generate edge maps from converted label maps')
    parser.add_argument('data_root', help='converted root holding labels/')
    parser.add_argument(
        '--mode', choices=['ehanet', 'eagr'], default='ehanet')
    parser.add_argument(
        '--width',
        type=int,
        default=None,
        help='dilation square side (default: 3 for ehanet, 1 for eagr)')
    parser.add_argument('--label-dir', default='labels')
    parser.add_argument('--out-dir', default='edges')
    add_conversion_arguments(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    run_conversion(
        'tools/generate_edges.py',
        generate_edge_maps,
        args.data_root,
        mode=args.mode,
        width=args.width,
        label_dir=args.label_dir,
        out_dir=args.out_dir,
        **conversion_options(args))


if __name__ == '__main__':
    main()
