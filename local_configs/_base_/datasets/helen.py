# Helen (Smith et al.) converted by tools/convert_datasets/helen.py: argmax
# labels of the soft masks, exemplars / tuning / testing = 2,000 / 230 / 100.
# The converted layout, classes and pipelines are those of LaPa (lapa.py).
_base_ = './lapa.py'
dataset_type = 'HelenDataset'
data_root = 'data/helen'
data = dict(
    train=dict(type=dataset_type, data_root=data_root),
    val=dict(type=dataset_type, data_root=data_root),
    test=dict(type=dataset_type, data_root=data_root))
