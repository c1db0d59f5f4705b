"""Test a segmentor: mmseg 0.30's tools/test.py with mmseg_face loaded.

Usage is mmseg's: ``python tools/test.py CONFIG CHECKPOINT --eval mIoU mF1
[--show-dir DIR] [--aug-test] [--launcher pytorch]``.
The arguments, config, options, ``--eval`` metrics, ``num_classes`` and
every file of the test split are checked before the model is built;
``--check-only`` runs just these checks. A checkpoint that does not fit the
model is refused, naming the keys, instead of evaluated.
"""
from mmseg_face.utils.launch import run_stock_tool

if __name__ == '__main__':
    from mmseg_face.compat import fitting_checkpoints_only
    with fitting_checkpoints_only():
        run_stock_tool('test')
