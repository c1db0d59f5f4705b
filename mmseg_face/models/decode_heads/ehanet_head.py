import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmcv.runner import BaseModule, force_fp32
from mmseg.models.builder import HEADS, build_loss
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import accuracy
from mmseg.ops import resize


def upsample_add(top, lateral):
    """Resize ``top`` to ``lateral`` (bilinear, align_corners=True) and add."""
    return F.interpolate(
        top, size=lateral.shape[2:], mode='bilinear',
        align_corners=True) + lateral


class SCAM(BaseModule):
    """Stage contextual attention: 1x1 projection gated by an SE branch.

    Args:
        in_channels (int): Input channels.
        channels (int): Output channels.
        reduction (int): Channel reduction inside the gate. Default: 8.
        norm_cfg (dict): Norm layer of the projection.
        init_cfg (dict, optional): Initialization config. Default: None.
    """

    def __init__(self, in_channels, channels, reduction=8,
                 norm_cfg=dict(type='BN'), init_cfg=None):
        super().__init__(init_cfg)
        self.project = ConvModule(
            in_channels, channels, 1, bias=False, norm_cfg=norm_cfg)
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvModule(channels, channels // reduction, 1, bias=False),
            ConvModule(
                channels // reduction,
                channels,
                1,
                bias=False,
                act_cfg=dict(type='Sigmoid')))

    def forward(self, x):
        x = self.project(x)
        return x * self.gate(x)


class SGCB(BaseModule):
    """Semantic gap compensation block.

    A 1x1 reduction to a quarter of the channels feeds parallel factorised
    (3x1 then 1x3) dilated branches; their outputs and the reduced input are
    concatenated back to ``channels``.

    Args:
        channels (int): Input and output channels, divisible by
            ``len(dilations) + 1``.
        dilations (Sequence[int]): Dilation of each branch.
        norm_cfg (dict): Norm layer closing each branch.
        init_cfg (dict, optional): Initialization config. Default: None.
    """

    def __init__(self, channels, dilations, norm_cfg=dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg)
        if channels % (len(dilations) + 1):
            raise ValueError(f'SGCB channels ({channels}) must be divisible '
                             f'by len(dilations) + 1 ({len(dilations) + 1})')
        branch_channels = channels // (len(dilations) + 1)
        self.reduce = nn.Conv2d(channels, branch_channels, 1, bias=False)
        self.branches = nn.ModuleList(
            nn.Sequential(
                ConvModule(
                    branch_channels,
                    branch_channels, (3, 1),
                    padding=(d, 0),
                    dilation=(d, 1),
                    bias=False),
                ConvModule(
                    branch_channels,
                    branch_channels, (1, 3),
                    padding=(0, d),
                    dilation=(1, d),
                    bias=False,
                    norm_cfg=norm_cfg)) for d in dilations)

    def forward(self, x):
        x = self.reduce(x)
        return torch.cat([branch(x) for branch in self.branches] + [x], dim=1)


class BoundaryBranch(BaseModule):
    """Boundary-aware features from the two highest-resolution stages.

    Each input goes through a depthwise 3x3 conv (BN, ReLU) and a 1x1 conv
    with BN but no activation; the results are resized to the first input
    and concatenated.

    Args:
        in_channels (Sequence[int]): Channels of the inputs.
        channels (int): Output channels per input.
        norm_cfg (dict): Norm layer config.
        init_cfg (dict, optional): Initialization config. Default: None.
    """

    def __init__(self, in_channels, channels, norm_cfg=dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg)
        self.convs = nn.ModuleList(
            nn.Sequential(
                ConvModule(
                    c, c, 3, padding=1, groups=c, bias=False,
                    norm_cfg=norm_cfg),
                ConvModule(
                    c, channels, 1, bias=False, norm_cfg=norm_cfg,
                    act_cfg=None)) for c in in_channels)

    def forward(self, inputs):
        size = inputs[0].shape[2:]
        return torch.cat([
            F.interpolate(
                conv(x), size=size, mode='bilinear', align_corners=True)
            for conv, x in zip(self.convs, inputs)
        ],
                         dim=1)


@HEADS.register_module()
class EHANetHead(BaseDecodeHead):
    """EHANet decoder with SCAM, SGCB and a boundary-aware branch.

    `EHANet: An Effective Hierarchical Aggregation Network for Face Parsing
    <https://doi.org/10.3390/app10093135>`_ (``FaceParseNet18/34`` of
    JACKYLUO1991/FaceParsing).

    SCAM projects every stage to ``channels`` and merges them top-down;
    SGCB blocks refine all but the deepest level in a second top-down pass.
    The boundary branch reads the two shallowest stages. Two classifiers
    follow: an auxiliary one on the pyramid and the final one on the pyramid
    concatenated with the boundary features. Inside the head features are
    resized bilinearly with ``align_corners=True``, as in the original.

    Training needs ``gt_edge`` (see ``GenerateFaceEdge(mode='ehanet')``):
    the loss is ``loss_decode`` on the final logits (the boundary-weighted
    cross-entropy), ``loss_aux`` on the auxiliary logits and ``loss_edge``
    on the edge logits, all at label size.

    Args:
        edge_channels (int): Channels of each boundary-branch output.
            Default: 128.
        sgcb_dilations (Sequence[Sequence[int]]): Branch dilations of the
            SGCB on each level but the deepest, shallowest level first.
            Default: ((7, 9, 13), (3, 6, 9), (1, 2, 4)).
        scam_reduction (int): Channel reduction of the SCAM gate. Default: 8.
        loss_aux (dict): Loss on the auxiliary logits.
            Default: ``CrossEntropyLoss`` averaged over non-ignored pixels.
        loss_edge (dict): Loss on the 2-class edge logits.
            Default: ``BalancedEdgeLoss``.
        **kwargs: Arguments of :class:`BaseDecodeHead`; ``channels`` is the
            pyramid width.
    """

    def __init__(self,
                 edge_channels=128,
                 sgcb_dilations=((7, 9, 13), (3, 6, 9), (1, 2, 4)),
                 scam_reduction=8,
                 loss_aux=dict(
                     type='CrossEntropyLoss',
                     avg_non_ignore=True,
                     loss_name='loss_aux'),
                 loss_edge=dict(
                     type='BalancedEdgeLoss', loss_name='loss_edge'),
                 **kwargs):
        super().__init__(input_transform='multiple_select', **kwargs)
        if len(sgcb_dilations) != len(self.in_channels) - 1:
            raise ValueError(
                f'sgcb_dilations needs {len(self.in_channels) - 1} entries '
                f'(one per level but the deepest), got {len(sgcb_dilations)}')
        self.scams = nn.ModuleList(
            SCAM(c, self.channels, scam_reduction, self.norm_cfg)
            for c in self.in_channels)
        self.sgcbs = nn.ModuleList(
            SGCB(self.channels, d, self.norm_cfg) for d in sgcb_dilations)
        self.boundary = BoundaryBranch(self.in_channels[:2], edge_channels,
                                       self.norm_cfg)
        self.conv_edge = nn.Conv2d(2 * edge_channels, 2, 3, padding=1)
        self.conv_seg_aux = nn.Conv2d(self.channels, self.out_channels, 1)
        # The final classifier reads the pyramid and the boundary features.
        self.conv_seg = nn.Conv2d(self.channels + 2 * edge_channels,
                                  self.out_channels, 1)
        if isinstance(self.loss_decode, nn.ModuleList):
            raise TypeError('EHANetHead takes a single loss_decode dict')
        self.loss_aux = build_loss(loss_aux)
        self.loss_edge = build_loss(loss_edge)
        names = [self.loss_decode.loss_name, self.loss_aux.loss_name,
                 self.loss_edge.loss_name]
        if len(set(names)) != 3:
            raise ValueError(f'EHANetHead loss names must differ: {names}')

    def forward(self, inputs):
        """Return (final logits, auxiliary logits, edge logits), stride 4."""
        feats = self._transform_inputs(inputs)
        level = self.scams[-1](feats[-1])
        pyramid = [level]
        for scam, feat in zip(self.scams[-2::-1], feats[-2::-1]):
            level = upsample_add(level, scam(feat))
            pyramid.insert(0, level)
        # The deepest level is left out here: the authors found its global
        # receptive field adds noise.
        fused = self.sgcbs[-1](pyramid[-2])
        for sgcb, level in zip(self.sgcbs[-2::-1], pyramid[-3::-1]):
            fused = upsample_add(fused, sgcb(level))
        edge_feat = self.boundary(feats[:2])
        seg_logit = self.cls_seg(torch.cat([fused, edge_feat], dim=1))
        return seg_logit, self.conv_seg_aux(fused), self.conv_edge(edge_feat)

    def forward_train(self, inputs, img_metas, gt_semantic_seg, train_cfg,
                      gt_edge=None):
        """Compute the losses; ``gt_edge`` (N, 1, H, W) is required."""
        if gt_edge is None:
            raise ValueError(
                'EHANetHead needs gt_edge: add GenerateFaceEdge to the train '
                "pipeline and collect 'gt_edge'")
        return self.losses(self(inputs), gt_semantic_seg, gt_edge)

    def forward_test(self, inputs, img_metas, test_cfg):
        """Return the final parsing logits only."""
        return self(inputs)[0]

    @force_fp32(apply_to=('logits', ))
    def losses(self, logits, seg_label, edge_label):
        """Compute the losses at label size.

        Args:
            logits (tuple[Tensor]): Final, auxiliary and edge logits.
            seg_label (Tensor): Labels (N, 1, H, W).
            edge_label (Tensor): Edge maps (N, 1, H, W).

        Returns:
            dict[str, Tensor]: The three losses and ``acc_seg``.
        """
        seg_logit, aux_logit, edge_logit = (
            resize(
                logit,
                size=seg_label.shape[2:],
                mode='bilinear',
                align_corners=self.align_corners) for logit in logits)
        seg_label = seg_label.squeeze(1)
        edge_label = edge_label.squeeze(1)
        loss = dict()
        loss[self.loss_decode.loss_name] = self.loss_decode(
            seg_logit,
            seg_label,
            edge_label=edge_label,
            ignore_index=self.ignore_index)
        loss[self.loss_aux.loss_name] = self.loss_aux(
            aux_logit, seg_label, ignore_index=self.ignore_index)
        loss[self.loss_edge.loss_name] = self.loss_edge(
            edge_logit, edge_label, ignore_index=self.ignore_index)
        loss['acc_seg'] = accuracy(
            seg_logit, seg_label, ignore_index=self.ignore_index)
        return loss
