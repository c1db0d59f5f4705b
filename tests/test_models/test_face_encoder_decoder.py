"""FaceEncoderDecoder: gt_edge routing in training, L/R swap in flip test."""
import pytest
import torch
from mmcv import ConfigDict
from mmseg.models import build_segmentor

import mmseg_face  # noqa: F401  (registration)

SIZE = 32


def build(cfg):
    return build_segmentor(ConfigDict(cfg))


def tiny_ehanet(num_classes=4, flip_pairs=((1, 2), )):
    return dict(
        type='FaceEncoderDecoder',
        flip_pairs=flip_pairs,
        backbone=dict(
            type='ResNet',
            depth=18,
            stem_channels=8,
            base_channels=8,
            out_indices=(0, 1, 2, 3)),
        decode_head=dict(
            type='EHANetHead',
            in_channels=(8, 16, 32, 64),
            in_index=(0, 1, 2, 3),
            channels=16,
            edge_channels=8,
            scam_reduction=4,
            dropout_ratio=0.0,
            num_classes=num_classes,
            align_corners=True,
            loss_decode=dict(
                type='BoundaryWeightedCrossEntropyLoss',
                loss_name='loss_seg')),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def tiny_fcn(flip_pairs=()):
    cfg = tiny_ehanet(num_classes=3, flip_pairs=flip_pairs)
    cfg['decode_head'] = dict(
        type='FCNHead',
        in_channels=64,
        in_index=3,
        channels=8,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.0,
        num_classes=3)
    return cfg


def meta(flip=False, direction='horizontal'):
    shape = (SIZE, SIZE, 3)
    return dict(
        ori_shape=shape,
        img_shape=shape,
        pad_shape=shape,
        flip=flip,
        flip_direction=direction)


def batch(num_classes=4):
    torch.manual_seed(0)
    img = torch.randn(2, 3, SIZE, SIZE)
    label = torch.randint(0, num_classes, (2, 1, SIZE, SIZE))
    label[:, :, :2] = 255
    edge = torch.randint(0, 2, (2, 1, SIZE, SIZE))
    edge[label == 255] = 255
    return img, label, edge


def test_train_passes_gt_edge_to_edge_head():
    model = build(tiny_ehanet())
    img, label, edge = batch()
    metas = [meta(), meta()]
    losses = model(img, metas, gt_semantic_seg=label, gt_edge=edge)
    assert set(losses) == {
        'decode.loss_seg', 'decode.loss_aux', 'decode.loss_edge',
        'decode.acc_seg'
    }
    other_edge = edge.clone()
    other_edge[edge != 255] = 1 - edge[edge != 255]
    swapped = model(img, metas, gt_semantic_seg=label, gt_edge=other_edge)
    # Same images and labels: only the edge-dependent terms change.
    assert torch.allclose(swapped['decode.loss_aux'],
                          losses['decode.loss_aux'])
    assert not torch.allclose(swapped['decode.loss_edge'],
                              losses['decode.loss_edge'])
    assert not torch.allclose(swapped['decode.loss_seg'],
                              losses['decode.loss_seg'])


def test_edge_head_without_gt_edge_names_the_missing_transform():
    model = build(tiny_ehanet())
    img, label, _ = batch()
    with pytest.raises(ValueError, match='GenerateFaceEdge'):
        model(img, [meta(), meta()], gt_semantic_seg=label)


def test_head_without_edge_branch_ignores_gt_edge():
    model = build(tiny_fcn())
    img, label, edge = batch(num_classes=3)
    metas = [meta(), meta()]
    with_edge = model(img, metas, gt_semantic_seg=label, gt_edge=edge)
    without = model(img, metas, gt_semantic_seg=label)
    assert set(with_edge) == {'decode.loss_ce', 'decode.acc_seg'}
    assert torch.allclose(with_edge['decode.loss_ce'],
                          without['decode.loss_ce'])


@torch.no_grad()
def test_horizontal_flip_test_swaps_left_right_channels():
    model = build(tiny_ehanet(flip_pairs=((1, 2), ))).eval()
    mirrored = torch.randn(1, 3, SIZE, SIZE)
    plain = model.inference(mirrored, [meta()], rescale=True)
    flipped = model.inference(mirrored, [meta(flip=True)], rescale=True)
    # The view is un-mirrored spatially, then class 1 takes class 2's
    # probabilities and vice versa; classes 0 and 3 only move spatially.
    unmirrored = plain.flip(3)
    assert torch.allclose(flipped[:, 0], unmirrored[:, 0])
    assert torch.allclose(flipped[:, 1], unmirrored[:, 2])
    assert torch.allclose(flipped[:, 2], unmirrored[:, 1])
    assert torch.allclose(flipped[:, 3], unmirrored[:, 3])
    assert not torch.allclose(flipped[:, 1], unmirrored[:, 1])
    vertical = model.inference(
        mirrored, [meta(flip=True, direction='vertical')], rescale=True)
    assert torch.allclose(vertical, plain.flip(2))


@torch.no_grad()
def test_aug_test_with_flip_view_matches_swapped_average():
    model = build(tiny_ehanet(flip_pairs=((1, 2), ))).eval()
    img = torch.randn(1, 3, SIZE, SIZE)
    pred = model.aug_test([img, img.flip(3)], [[meta()], [meta(flip=True)]])
    probs = model.inference(img, [meta()], rescale=True)
    mirrored = model.inference(img.flip(3), [meta()], rescale=True).flip(3)
    expected = (probs + mirrored[:, [0, 2, 1, 3]]) / 2
    assert (pred[0] == expected.argmax(1)[0].numpy()).all()


def test_flip_pairs_are_validated():
    with pytest.raises(ValueError, match='outside'):
        build(tiny_ehanet(num_classes=4, flip_pairs=((1, 4), )))
