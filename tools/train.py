"""Train a segmentor: mmseg 0.30's tools/train.py with mmseg_face loaded.

Usage is mmseg's: ``python tools/train.py CONFIG [--work-dir DIR]
[--resume-from CKPT] [--cfg-options k=v ...] [--launcher pytorch]``.
The config, options, launcher and loader settings, the evaluation metrics,
``num_classes`` and every file of the train and val splits are checked
before training starts; ``--check-only`` runs just these checks.
"""
from mmseg_face.utils.launch import run_stock_tool

if __name__ == '__main__':
    run_stock_tool('train')
