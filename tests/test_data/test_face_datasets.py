import os.path as osp
import pickle

import numpy as np
import pytest
from mmcv import Config
from mmseg.datasets import DATASETS, CustomDataset, build_dataset
from PIL import Image

import mmseg_face  # noqa: F401  (registration)
from mmseg_face.datasets import ConfusionMatrix

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATASET_TYPES = dict(
    celebamask_hq='CelebAMaskHQDataset', helen='HelenDataset',
    lapa='LaPaDataset')
LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]


def _build(sample_root, dataset, split, pipeline=LOAD, **kwargs):
    return build_dataset(
        dict(type=DATASET_TYPES[dataset], data_root=sample_root(dataset),
             split=f'{split}.txt', pipeline=pipeline, **kwargs))


def test_class_metadata():
    from mmseg_face.datasets import (CelebAMaskHQDataset, HelenDataset,
                                     LaPaDataset)
    assert CelebAMaskHQDataset.CLASSES[4:10] == ('l_eye', 'r_eye', 'l_brow',
                                                 'r_brow', 'l_ear', 'r_ear')
    assert CelebAMaskHQDataset.CLASSES[-1] == 'cloth'
    assert len(CelebAMaskHQDataset.CLASSES) == 19
    assert CelebAMaskHQDataset.PALETTE[7] == [255, 204, 204]
    assert CelebAMaskHQDataset.FLIP_PAIRS == ((4, 5), (6, 7), (8, 9))
    for cls in (HelenDataset, LaPaDataset):
        assert len(cls.CLASSES) == len(cls.PALETTE) == 11
        assert cls.CLASSES[2] == 'left_eyebrow' and cls.CLASSES[8] == (
            'inner_mouth')
        assert cls.FLIP_PAIRS == ((2, 3), (4, 5))


def test_lapa_overlays_paint_lapas_official_colours():
    """LaPa's colormap.txt is RGB (its sample.png shows skin blue, hair
    pink, nose orange): painted into a BGR image, skin is (255, 153, 0)."""
    from mmseg_face.apis import colorize_labels
    from mmseg_face.datasets import HelenDataset, LaPaDataset
    labels = np.array([[1, 10, 6]], np.uint8)  # skin, hair, nose
    for cls in (LaPaDataset, HelenDataset):
        painted = colorize_labels(labels, cls.PALETTE)
        assert painted[0].tolist() == [[255, 153, 0], [102, 0, 255],
                                       [0, 153, 255]]


@pytest.mark.parametrize('dataset,num_classes', [('celebamask_hq', 19),
                                                 ('helen', 11),
                                                 ('lapa', 11)])
def test_generate_convert_load(sample_root, dataset, num_classes):
    sizes = {
        split: len(_build(sample_root, dataset, split))
        for split in ('train', 'val', 'test')
    }
    assert sizes == dict(train=6, val=2, test=2)  # SPLIT_CYCLE per ten
    seen = set()
    for split in ('train', 'val', 'test'):
        data = _build(sample_root, dataset, split)
        assert len(data.CLASSES) == num_classes
        for item in data:
            label = item['gt_semantic_seg']
            assert label.shape == item['img'].shape[:2] == (64, 64)
            assert label.max() < num_classes
            seen.update(np.unique(label).tolist())
    assert seen == set(range(num_classes))  # every class drawn


def _centroid_x(label, class_id):
    return np.nonzero(label == class_id)[1].mean()


def test_left_right_conventions(sample_root):
    celeba = _build(sample_root, 'celebamask_hq', 'train')[0]
    label = celeba['gt_semantic_seg']
    # CelebAMask-HQ l_*: subject's left = image right.
    for left, right in ((4, 5), (6, 7), (8, 9)):
        assert _centroid_x(label, left) > _centroid_x(label, right)
    lapa = _build(sample_root, 'lapa', 'train')[0]['gt_semantic_seg']
    # LaPa "left": image left.
    for left, right in ((2, 3), (4, 5)):
        assert _centroid_x(lapa, left) < _centroid_x(lapa, right)


def test_training_pipeline_with_flip_and_edge(sample_root):
    pipeline = LOAD + [
        dict(type='FaceRandomFlip', prob=1.0,
             flip_pairs=[(4, 5), (6, 7), (8, 9)]),
        dict(type='GenerateFaceEdge', mode='ehanet'),
        dict(type='Normalize', mean=[0, 0, 0], std=[1, 1, 1]),
        dict(type='FaceFormatBundle'),
        dict(type='Collect', keys=['img', 'gt_semantic_seg', 'gt_edge']),
    ]
    plain = _build(sample_root, 'celebamask_hq', 'train')[0]
    item = _build(sample_root, 'celebamask_hq', 'train', pipeline)[0]
    label = item['gt_semantic_seg'].data[0].numpy()
    swap = np.array([0, 1, 2, 3, 5, 4, 7, 6, 9, 8] + list(range(10, 19)))
    np.testing.assert_array_equal(label,
                                  swap[plain['gt_semantic_seg'][:, ::-1]])
    edge = item['gt_edge'].data
    assert tuple(edge.shape) == (1, 64, 64)
    assert set(edge.unique().tolist()) == {0, 1}


@pytest.mark.parametrize('missing', ['data_root', 'img_dir', 'split'])
def test_missing_paths_are_named(tmp_path, missing):
    root = tmp_path / 'root'
    (root / 'images').mkdir(parents=True)
    (root / 'labels').mkdir()
    (root / 'train.txt').write_text('')
    cfg = dict(type='LaPaDataset', data_root=str(root), split='train.txt',
               pipeline=LOAD)
    if missing == 'data_root':
        cfg['data_root'] = str(tmp_path / 'nowhere')
        expected = 'nowhere'
    elif missing == 'img_dir':
        cfg['img_dir'] = 'imgs'
        expected = osp.join(str(root), 'imgs')
    else:
        cfg['split'] = 'val.txt'
        expected = osp.join(str(root), 'val.txt')
    with pytest.raises(FileNotFoundError, match=expected):
        build_dataset(cfg)


def _shifted_predictions(data):
    """Labels shifted by 2 px: imperfect predictions with every class."""
    return [
        np.roll(data.get_gt_seg_map_by_idx(i), 2, axis=1)
        for i in range(len(data))
    ]


def test_evaluate_miou_is_stock_and_adds_f1(sample_root):
    data = _build(sample_root, 'helen', 'train')
    preds = _shifted_predictions(data)
    pre_eval = [r for i, p in enumerate(preds) for r in data.pre_eval(p, i)]
    assert all(isinstance(r, ConfusionMatrix) for r in pre_eval)
    ours = data.evaluate(pre_eval, metric=['mIoU', 'mF1'])
    # Distributed testing pickles the pre-eval results between ranks.
    assert data.evaluate(pickle.loads(pickle.dumps(pre_eval)), 'mF1')[
        'mF1'] == ours['mF1']

    stock = CustomDataset(
        pipeline=LOAD, img_dir=data.img_dir, ann_dir=data.ann_dir,
        split=data.split, classes=data.CLASSES, palette=data.PALETTE)
    stock_pre_eval = [
        r for i, p in enumerate(preds) for r in stock.pre_eval(p, i)
    ]
    stock_results = stock.evaluate(stock_pre_eval, metric='mIoU')
    for key, value in stock_results.items():
        assert ours[key] == value or (np.isnan(value) and np.isnan(
            ours[key])), key
    assert 0.2 < ours['mIoU'] < 1
    assert 0 < ours['F1.overall'] < 1 and 0 < ours['mF1'] < 1
    # The same numbers from predicted maps instead of pre-eval results.
    assert data.evaluate(preds, metric='mF1')['mF1'] == ours['mF1']
    with pytest.raises(KeyError):
        data.evaluate(pre_eval, metric='mAP')


def test_evaluate_perfect_prediction(sample_root):
    data = _build(sample_root, 'celebamask_hq', 'val')
    gts = [data.get_gt_seg_map_by_idx(i) for i in range(len(data))]
    results = data.evaluate(
        data.pre_eval(gts, list(range(len(data)))), metric='mF1')
    present = set(np.unique(np.concatenate([g.ravel() for g in gts])))
    for class_id, name in enumerate(data.CLASSES):
        value = results[f'F1.{name}']
        assert value == 1 if class_id in present else np.isnan(value)
    assert results['mF1'] == 1
    assert 'mIoU' not in results


def test_format_results_writes_class_ids_as_they_are(sample_root, tmp_path):
    data = _build(sample_root, 'lapa', 'val')
    pred = np.full((64, 64), 10, np.uint8)
    pred[:, :5] = 0
    files = data.format_results([pred], str(tmp_path), indices=[1])
    name = osp.splitext(data.img_infos[1]['filename'])[0]
    assert files == [str(tmp_path / f'{name}.png')]
    written = np.asarray(Image.open(files[0]))
    np.testing.assert_array_equal(written, pred)


@pytest.mark.parametrize('dataset', ['celebamask_hq', 'helen', 'lapa'])
def test_base_config_pipelines(sample_root, dataset):
    cfg = Config.fromfile(
        osp.join(REPO, 'local_configs', '_base_', 'datasets',
                 f'{dataset}.py'))
    assert cfg.dataset_type == DATASET_TYPES[dataset]
    assert cfg.data_root == f'data/{dataset}'
    flip = [t for t in cfg.train_pipeline if t['type'] == 'FaceRandomFlip']
    expected_pairs = DATASETS.get(cfg.dataset_type).FLIP_PAIRS
    assert [tuple(p) for p in flip[0]['flip_pairs']] == list(expected_pairs)
    assert [tuple(p) for p in cfg.flip_pairs] == list(expected_pairs)
    train = build_dataset(dict(cfg.data.train,
                               data_root=sample_root(dataset)))
    item = train[0]
    assert tuple(item['img'].data.shape) == (3, ) + cfg.crop_size
    assert tuple(item['gt_semantic_seg'].data.shape) == (1, ) + cfg.crop_size
    test = build_dataset(dict(cfg.data.test, data_root=sample_root(dataset)))
    assert len(test) == 2
    assert tuple(test[0]['img'][0].shape) == (3, 512, 512)
