"""SPNet-R50/R101 (SPM on, FCN aux) against houqb/SPNet's ``models.spnet``.

The original is built unmodified with ``pretrained=None`` (no ImageNet
file is read). Ours are the CelebAMask-HQ configs; the auxiliary heads are
compared through the weight copy only (training-time output).
"""
import re

from survey_parity import ParityCase

CONFIGS = {
    50: 'local_configs/spnet/spnet_r50-d8_512x512_80k_celebamask-hq.py',
    101: 'local_configs/spnet/spnet_r101-d8_512x512_80k_celebamask-hq.py',
}
# PyTorch-Encoding's deep stem (conv1 Sequential, bn1) -> mmseg's stem.
STEM = {'conv1.0': 'stem.0', 'conv1.1': 'stem.1', 'conv1.3': 'stem.3',
        'conv1.4': 'stem.4', 'conv1.6': 'stem.6', 'bn1': 'stem.7'}
SPM = {'conv1': 'column_conv.conv', 'bn1': 'column_conv.bn',
       'conv2': 'row_conv.conv', 'bn2': 'row_conv.bn', 'conv3': 'gate_conv'}
MPM = {'conv1_1': 'pyramid_reduce', 'conv1_2': 'strip_reduce',
       'conv2_0': 'local_conv', 'conv2_1': 'pool_convs.0',
       'conv2_2': 'pool_convs.1', 'conv2_3': 'row_conv',
       'conv2_4': 'column_conv', 'conv2_5': 'pyramid_fuse',
       'conv2_6': 'strip_fuse', 'conv3': 'project'}
# Index in an original conv-bn(-relu) Sequential -> ConvModule part.
CONV_BN = {'0': 'conv', '1': 'bn'}


def build_original(depth):
    def build(source_dir):
        from models.spnet import SPNet
        return SPNet(19, f'resnet{depth}', pretrained=None, aux=True,
                     spm_on=True)
    return build


def build_ours(depth):
    def build():
        from mmseg_face.utils.complexity import build_segmentor_from_config
        return build_segmentor_from_config(CONFIGS[depth])[0]
    return build


def key_map(key):
    prefix, _, rest = key.partition('.')
    if prefix == 'pretrained':
        for original, ours in STEM.items():
            if rest.startswith(original + '.'):
                return f'backbone.{ours}{rest[len(original):]}'
        match = re.match(r'(layer\d\.\d+)\.spm\.(\w+)\.(\w+)$', rest)
        if match:
            block, part, leaf = match.groups()
            return f'backbone.{block}.spm.{SPM[part]}.{leaf}'
        return f'backbone.{rest}'
    if prefix == 'auxlayer':
        index, leaf = re.match(r'conv5\.(\d)\.(\w+)$', rest).groups()
        return ('auxiliary_head.conv_seg.' if index == '4' else
                f'auxiliary_head.convs.0.{CONV_BN[index]}.') + leaf
    match = re.match(r'trans_layer\.(\d)\.(\w+)$', rest)
    if match:
        return f'decode_head.reduce.{CONV_BN[match[1]]}.{match[2]}'
    match = re.match(r'score_layer\.(\d)\.(\w+)$', rest)
    if match:
        return ('decode_head.conv_seg.' if match[1] == '4' else
                f'decode_head.bottleneck.{CONV_BN[match[1]]}.') + match[2]
    block, part, index, leaf = re.match(
        r'strip_pool(\d)\.(\w+)\.(\d)\.(\w+)$', rest).groups()
    return (f'decode_head.mpms.{int(block) - 1}.{MPM[part]}.'
            f'{CONV_BN[index]}.{leaf}')


CASES = [
    ParityCase(
        name=f'SPNet R{depth} (SPM, aux)',
        repo='houqb+SPNet',
        build_original=build_original(depth),
        build_ours=build_ours(depth),
        key_map=key_map,
        original_logits=lambda model, x: model(x),
        our_logits=lambda model, x: model.encode_decode(x, [{}]),
        modules=('models', )) for depth in (50, 101)
]
