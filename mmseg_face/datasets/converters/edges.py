"""Offline edge maps of converted label maps (``tools/generate_edges.py``)."""
import glob
import os.path as osp
from functools import partial

import mmcv

from ..pipelines.edge import label_to_edge
from .common import (ConversionError, ConversionSummary, ItemResult,
                     atomic_write_bytes, check_single_channel, decode_image,
                     encode_png, read_bytes, remove_temp_files, run_items)


def _edge_one(task, mode, width, ignore_index):
    label_path, edge_path = task
    name = osp.splitext(osp.basename(label_path))[0]
    if osp.isfile(edge_path):
        return ItemResult(name, 'skipped')
    try:
        label = decode_image(read_bytes(label_path, 'label'), label_path)
        check_single_channel(label, label_path, 'label')
    except ConversionError as error:
        return ItemResult(name, 'rejected', str(error))
    edge = label_to_edge(label, mode, width, ignore_index)
    atomic_write_bytes(edge_path, encode_png(edge))
    return ItemResult(name, 'written')


def generate_edge_maps(data_root,
                       mode='ehanet',
                       width=None,
                       label_dir='labels',
                       out_dir='edges',
                       ignore_index=255,
                       nproc=1):
    """Write ``<data_root>/<out_dir>/<name>.png`` for every label PNG.

    The maps hold what :class:`GenerateFaceEdge` would produce on the
    un-augmented label: 0 non-edge, 1 edge, ``ignore_index`` where the label
    is ignored. Existing maps are skipped, so an interrupted run resumes.

    Args:
        data_root (str): Converted dataset root.
        mode (str): 'ehanet' or 'eagr'. Default: 'ehanet'.
        width (int, optional): Dilation square side. Default: None (the
            mode's own: 3 for ehanet, 1 for eagr).
        label_dir (str): Label folder under ``data_root``. Default: 'labels'.
        out_dir (str): Edge folder under ``data_root``. Default: 'edges'.
        ignore_index (int): Ignored label value. Default: 255.
        nproc (int): Worker processes. Default: 1.

    Returns:
        ConversionSummary: Written, skipped and rejected label maps.
    """
    label_root = osp.join(data_root, label_dir)
    if not osp.isdir(label_root):
        raise ConversionError(f'{label_root}: label folder not found')
    edge_root = osp.join(data_root, out_dir)
    label_to_edge(label=[[0]], mode=mode, width=width)  # validate args early
    mmcv.mkdir_or_exist(edge_root)
    remove_temp_files(edge_root)
    tasks = [(path, osp.join(edge_root, osp.basename(path)))
             for path in sorted(glob.glob(osp.join(label_root, '*.png')))]
    results = run_items(
        partial(_edge_one, mode=mode, width=width, ignore_index=ignore_index),
        tasks, nproc)
    return ConversionSummary.from_results(results)
