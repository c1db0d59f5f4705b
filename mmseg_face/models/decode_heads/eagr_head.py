import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmcv.runner import BaseModule, force_fp32
from mmseg.models.builder import HEADS, build_loss
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.decode_heads.psp_head import PPM
from mmseg.models.losses import accuracy
from mmseg.ops import resize


def resize_aligned(x, size):
    """Bilinear resize with align_corners=True, as EAGRNet resizes features."""
    if tuple(x.shape[2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode='bilinear', align_corners=True)


class EdgeModule(BaseModule):
    """Edge perceiving module: a shared 3x3 edge classifier on three stages.

    Args:
        in_channels (Sequence[int]): Channels of the three inputs.
        channels (int): Width of each projected input.
        conv_cfg, norm_cfg, act_cfg (dict): Layer configs of the projections.
        init_cfg (dict, optional): Initialization config. Default: None.
    """

    def __init__(self, in_channels, channels, conv_cfg, norm_cfg, act_cfg,
                 init_cfg=None):
        super().__init__(init_cfg)
        self.projections = nn.ModuleList(
            ConvModule(
                c,
                channels,
                1,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg) for c in in_channels)
        self.classifier = nn.Conv2d(channels, 2, 3, padding=1)
        self.fuse = nn.Conv2d(2 * len(in_channels), 2, 1)

    def forward(self, inputs):
        size = inputs[0].shape[2:]
        edges = [
            resize_aligned(self.classifier(proj(x)), size)
            for proj, x in zip(self.projections, inputs)
        ]
        return self.fuse(torch.cat(edges, dim=1))


class GraphConv(BaseModule):
    """Graph reasoning over node features (N, C, K): (A - I) V, then W, ReLU.

    Args:
        channels (int): Node feature channels C.
        num_nodes (int): Number of nodes K.
        init_cfg (dict, optional): Initialization config. Default: None.
    """

    def __init__(self, channels, num_nodes, init_cfg=None):
        super().__init__(init_cfg)
        self.node_conv = nn.Conv1d(num_nodes, num_nodes, 1)
        self.channel_conv = nn.Conv1d(channels, channels, 1, bias=False)

    def forward(self, nodes):
        propagated = self.node_conv(nodes.transpose(1, 2)).transpose(1, 2)
        return F.relu(self.channel_conv(propagated - nodes))


class EAGRModule(BaseModule):
    """Edge-aware graph reasoning block.

    Pixels are softly assigned to ``node_grid**2`` nodes whose anchors are
    pooled from edge-weighted projections; the nodes are reasoned over with a
    graph convolution and projected back, and the result is added to the
    input through a 1x1 conv with norm and activation.

    Args:
        in_channels (int): Input (and output) channels.
        channels (int): Node feature channels.
        node_grid (int): Anchors come from the central ``node_grid`` x
            ``node_grid`` cells of a ``node_grid + 2`` average-pooling grid.
            Default: 4.
        conv_cfg, norm_cfg, act_cfg (dict): Layer configs of the output
            projection.
        init_cfg (dict, optional): Initialization config. Default: None.
    """

    def __init__(self, in_channels, channels, node_grid=4, conv_cfg=None,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'),
                 init_cfg=None):
        super().__init__(init_cfg)
        self.pool = nn.AdaptiveAvgPool2d(node_grid + 2)
        self.conv_state = nn.Conv2d(in_channels, channels, 1)
        self.conv_proj = nn.Conv2d(in_channels, channels, 1)
        self.gcn = GraphConv(channels, node_grid * node_grid)
        self.conv_out = ConvModule(
            channels,
            in_channels,
            1,
            bias=False,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)

    def forward(self, x, edge_logit):
        n, _, h, w = x.shape
        # Nearest resize of the edge logits, as the original (F.upsample).
        edge_logit = F.interpolate(edge_logit, size=(h, w), mode='nearest')
        edge_prob = edge_logit.softmax(dim=1)[:, 1:]
        state = self.conv_state(x).flatten(2)
        proj = self.conv_proj(x)
        anchors = self.pool(proj * edge_prob)[:, :, 1:-1, 1:-1].flatten(2)
        assignment = torch.bmm(anchors.transpose(1, 2),
                               proj.flatten(2)).softmax(dim=1)
        nodes = self.gcn(torch.bmm(state, assignment.transpose(1, 2)))
        pixels = torch.bmm(nodes, assignment).view(n, -1, h, w)
        return x + self.conv_out(pixels)


@HEADS.register_module()
class EAGRHead(BaseDecodeHead):
    """EAGRNet decoder: pyramid pooling, edge module, graph reasoning.

    `Edge-aware Graph Representation Learning and Reasoning for Face Parsing
    <https://arxiv.org/abs/2007.11240>`_ (tegusi/EAGRNet ``EAGRNet``).

    Expects the four ResNet stages (strides 4, 8, 8, 8). Pyramid pooling on
    the last stage gives the context; the edge module reads the first three
    stages. One EAGR block refines the context, another the first stage,
    both guided by the (detached) edge logits; a DeepLabV3+-style decoder
    fuses them at stride 4. InPlace-ABN of the original is replaced by
    ``norm_cfg`` + ``act_cfg`` (use BN/SyncBN + LeakyReLU(0.01)).

    Training needs ``gt_edge`` (see ``GenerateFaceEdge(mode='eagr')``). The
    loss is ``loss_decode`` on the parsing logits + ``loss_edge`` on the edge
    logits + ``loss_edge_att`` (the parsing cross-entropy on edge pixels),
    all after a bilinear resize to label size with ``align_corners=False``
    as in the original loss; ``align_corners`` of the head (True in the
    configs) applies to test-time resizing.

    Loss weights: the released training script (b6a40f5 ``train.py``)
    weights the parsing, edge and edge-attention terms 1, 1 and 4; these are
    the defaults here and in the configs (the paper's own lambda values were
    not available to check them against). That script's criterion loops
    over the two model outputs and adds every term once per output, so the
    original code double-counts and optimises
    ``2 * (L_parse + L_edge + 4 * L_att)``. Each term is counted once here;
    the factor 2 only rescaled the gradients.

    The backbone is mmseg's ``ResNet``, whose blocks use ReLU; the
    original's InPlace-ABN also puts a LeakyReLU(0.01) before each residual
    addition, which has no parameters.

    Args:
        pool_scales (Sequence[int]): Pyramid pooling scales.
            Default: (1, 2, 3, 6).
        context_channels (int): Width of the pyramid-pooling context.
            Default: 512.
        edge_channels (int): Width of the edge-module projections.
            Default: 256.
        graph_channels (Sequence[int]): Node channels of the EAGR blocks on
            the context and on the first stage. Default: (128, 64).
        node_grid (int): Node grid side of the EAGR blocks. Default: 4.
        skip_channels (int): Width of the stride-4 skip in the decoder.
            Default: 48.
        loss_edge (dict): Loss on the 2-class edge logits.
        loss_edge_att (dict): Edge-attention loss on the parsing logits.
        **kwargs: Arguments of :class:`BaseDecodeHead`; ``channels`` is the
            decoder width (256 in the original).
    """

    def __init__(self,
                 pool_scales=(1, 2, 3, 6),
                 context_channels=512,
                 edge_channels=256,
                 graph_channels=(128, 64),
                 node_grid=4,
                 skip_channels=48,
                 loss_edge=dict(
                     type='BalancedEdgeLoss', loss_name='loss_edge'),
                 loss_edge_att=dict(
                     type='EdgeAttentionCrossEntropyLoss',
                     loss_weight=4.0,
                     loss_name='loss_edge_att'),
                 **kwargs):
        super().__init__(input_transform='multiple_select', **kwargs)
        if len(self.in_channels) != 4:
            raise ValueError('EAGRHead expects 4 input stages, got '
                             f'in_channels={self.in_channels}')
        layer_cfg = dict(
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.psp_modules = PPM(
            pool_scales,
            self.in_channels[3],
            context_channels,
            align_corners=True,
            **layer_cfg)
        self.psp_bottleneck = ConvModule(
            self.in_channels[3] + len(pool_scales) * context_channels,
            context_channels,
            3,
            padding=1,
            **layer_cfg)
        self.edge_module = EdgeModule(self.in_channels[:3], edge_channels,
                                      **layer_cfg)
        self.context_graph = EAGRModule(context_channels, graph_channels[0],
                                        node_grid, **layer_cfg)
        self.skip_graph = EAGRModule(self.in_channels[0], graph_channels[1],
                                     node_grid, **layer_cfg)
        self.context_project = ConvModule(context_channels, self.channels, 1,
                                          **layer_cfg)
        self.skip_project = ConvModule(self.in_channels[0], skip_channels, 1,
                                       **layer_cfg)
        self.fuse = nn.Sequential(
            ConvModule(self.channels + skip_channels, self.channels, 1,
                       **layer_cfg),
            ConvModule(self.channels, self.channels, 1, **layer_cfg))
        if isinstance(self.loss_decode, nn.ModuleList):
            raise TypeError('EAGRHead takes a single loss_decode dict')
        self.loss_edge = build_loss(loss_edge)
        self.loss_edge_att = build_loss(loss_edge_att)
        names = [self.loss_decode.loss_name, self.loss_edge.loss_name,
                 self.loss_edge_att.loss_name]
        if len(set(names)) != 3:
            raise ValueError(f'EAGRHead loss names must differ: {names}')

    def forward(self, inputs):
        """Return (parsing logits, edge logits), both at stride 4."""
        x2, x3, x4, x5 = self._transform_inputs(inputs)
        # The original concatenates the pooled maps before the input.
        context = self.psp_bottleneck(
            torch.cat(self.psp_modules(x5) + [x5], dim=1))
        edge_logit = self.edge_module([x2, x3, x4])
        edge_prior = edge_logit.detach()
        context = self.context_graph(context, edge_prior)
        skip = self.skip_graph(x2, edge_prior)
        context = resize_aligned(self.context_project(context), x2.shape[2:])
        feat = self.fuse(torch.cat([context, self.skip_project(skip)], dim=1))
        return self.cls_seg(feat), edge_logit

    def forward_train(self, inputs, img_metas, gt_semantic_seg, train_cfg,
                      gt_edge=None):
        """Compute the losses; ``gt_edge`` (N, 1, H, W) is required."""
        if gt_edge is None:
            raise ValueError(
                'EAGRHead needs gt_edge: add GenerateFaceEdge to the train '
                "pipeline and collect 'gt_edge'")
        return self.losses(self(inputs), gt_semantic_seg, gt_edge)

    def forward_test(self, inputs, img_metas, test_cfg):
        """Return the parsing logits only."""
        return self(inputs)[0]

    @force_fp32(apply_to=('logits', ))
    def losses(self, logits, seg_label, edge_label):
        """Compute the losses at label size.

        Args:
            logits (tuple[Tensor]): Parsing and edge logits.
            seg_label (Tensor): Labels (N, 1, H, W).
            edge_label (Tensor): Edge maps (N, 1, H, W).

        Returns:
            dict[str, Tensor]: The three losses and ``acc_seg``.
        """
        seg_logit, edge_logit = (
            resize(
                logit,
                size=seg_label.shape[2:],
                mode='bilinear',
                align_corners=False) for logit in logits)
        seg_label = seg_label.squeeze(1)
        edge_label = edge_label.squeeze(1)
        loss = dict()
        loss[self.loss_decode.loss_name] = self.loss_decode(
            seg_logit, seg_label, ignore_index=self.ignore_index)
        loss[self.loss_edge.loss_name] = self.loss_edge(
            edge_logit, edge_label, ignore_index=self.ignore_index)
        loss[self.loss_edge_att.loss_name] = self.loss_edge_att(
            seg_logit,
            seg_label,
            edge_label=edge_label,
            ignore_index=self.ignore_index)
        loss['acc_seg'] = accuracy(
            seg_logit, seg_label, ignore_index=self.ignore_index)
        return loss
