"""Offline edge maps of converted label maps (``tools/generate_edges.py``)."""
import glob
import os.path as osp
from functools import partial

import numpy as np

from ..pipelines.edge import DEFAULT_EDGE_WIDTH, label_to_edge
from .common import (ConversionError, ConversionSummary, ItemResult,
                     atomic_write_bytes, check_single_channel, decode_image,
                     encode_png, read_bytes, run_items)
from .output_folder import OutputLayout, claim_output, conversion_record

EDGE_LAYOUT = OutputLayout(folders=(('', '.png'), ))


def _read_label(label_path):
    label = decode_image(read_bytes(label_path, 'label'), label_path)
    check_single_channel(label, label_path, 'label')
    return label


def _edge_one(task, mode, width, ignore_index):
    label_path, edge_path = task
    name = osp.splitext(osp.basename(label_path))[0]
    try:
        edge = label_to_edge(_read_label(label_path), mode, width,
                             ignore_index)
    except ConversionError as error:
        return ItemResult(name, 'rejected', str(error))
    redo_reason = ''
    if osp.isfile(edge_path):
        # Recomputing the edge costs little next to decoding, so the check
        # on resume is exact: the map must equal what would be written.
        try:
            if np.array_equal(
                    decode_image(read_bytes(edge_path, 'edge map'),
                                 edge_path), edge):
                return ItemResult(name, 'skipped')
            redo_reason = f'{edge_path}: differs from the edges of its label'
        except ConversionError as error:
            redo_reason = str(error)
    atomic_write_bytes(edge_path, encode_png(edge))
    if redo_reason:
        return ItemResult(name, 'redone', redo_reason)
    return ItemResult(name, 'written')


def generate_edge_maps(data_root,
                       mode='ehanet',
                       width=None,
                       label_dir='labels',
                       out_dir='edges',
                       ignore_index=255,
                       nproc=1,
                       overwrite=False):
    """Write ``<data_root>/<out_dir>/<name>.png`` for every label PNG.

    The maps hold what :class:`GenerateFaceEdge` would produce on the
    un-augmented label: 0 non-edge, 1 edge, ``ignore_index`` where the label
    is ignored. Existing maps that equal what would be written are
    skipped, so an interrupted run resumes; damaged ones are redone. The
    options are recorded in ``<out_dir>/conversion.json`` and a run with
    other options refuses (see :func:`claim_output`).

    Args:
        data_root (str): Converted dataset root.
        mode (str): 'ehanet' or 'eagr'. Default: 'ehanet'.
        width (int, optional): Dilation square side. Default: None (the
            mode's own: 3 for ehanet, 1 for eagr).
        label_dir (str): Label folder under ``data_root``. Default: 'labels'.
        out_dir (str): Edge folder under ``data_root``. Default: 'edges'.
        ignore_index (int): Ignored label value. Default: 255.
        nproc (int): Worker processes. Default: 1.
        overwrite (bool): Replace edge maps made with other options instead
            of refusing. Default: False.

    Returns:
        ConversionSummary: Written, redone, skipped and rejected label maps.
    """
    label_root = osp.join(data_root, label_dir)
    if not osp.isdir(label_root):
        raise ConversionError(f'{label_root}: label folder not found')
    edge_root = osp.join(data_root, out_dir)
    if osp.realpath(edge_root) == osp.realpath(label_root):
        raise ConversionError(
            f'{edge_root}: the edge folder cannot be the label folder')
    label_to_edge(label=[[0]], mode=mode, width=width)  # validate args early
    options = dict(
        mode=mode,
        width=DEFAULT_EDGE_WIDTH[mode] if width is None else width,
        label_dir=label_dir,
        ignore_index=ignore_index)
    tasks = [(path, osp.join(edge_root, osp.basename(path)))
             for path in sorted(glob.glob(osp.join(label_root, '*.png')))]
    with claim_output(edge_root, conversion_record('edges', options),
                      EDGE_LAYOUT, overwrite) as removed:
        summary = ConversionSummary.from_results(
            run_items(
                partial(
                    _edge_one, mode=mode, width=width,
                    ignore_index=ignore_index), tasks, nproc))
    summary.removed = removed
    return summary
