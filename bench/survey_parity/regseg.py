"""RegSeg exp48-decoder26 against RolandGao/RegSeg's ``model.RegSeg``.

The original is built unmodified (``model.py`` imports torchvision's
``DeformConv2d`` for unused competitor decoders; torchvision is installed,
so no stand-in is needed). Ours is the CelebAMask-HQ config.
"""
import re

from survey_parity import ParityCase

CONFIG = 'local_configs/regseg/regseg_exp48_8x1_512x512_160k_celebamask-hq.py'

# Original stage -> our stage index; stage4 is one block, not a Sequential.
STAGES = {'stage4': 0, 'stage8': 1, 'stage16': 2}
BLOCK_PARTS = {
    'conv1': 'conv1.conv', 'bn1': 'conv1.bn', 'bn2': 'norm2',
    'se.conv1': 'se.reduce.conv', 'se.conv2': 'se.expand.conv',
    'conv3': 'conv3.conv', 'bn3': 'conv3.bn'
}
DECODER_PARTS = {
    'head4': 'projects.0', 'head8': 'projects.1', 'head16': 'projects.2',
    'conv8': 'fuse8', 'conv4': 'fuse4'
}


def build_original(source_dir):
    from model import RegSeg
    return RegSeg('exp48_decoder26', num_classes=19)


def build_ours():
    from mmseg_face.utils.complexity import build_segmentor_from_config
    return build_segmentor_from_config(CONFIG)[0]


def block_key(index, rest):
    """Our name of a D block's weight ``rest`` (block ``index`` of its
    stage); the first block of a stage has the avg-pool shortcut."""
    if rest.startswith('conv2.'):
        return 'conv2.' + (rest[len('conv2.'):] if rest.startswith(
            'conv2.convs.') else 'convs.0.' + rest[len('conv2.'):])
    if rest.startswith('shortcut.'):
        return ('shortcut.1.' if index == 0 else 'shortcut.') + rest[9:]
    part, _, leaf = rest.rpartition('.')
    return f'{BLOCK_PARTS[part]}.{leaf}'


def key_map(key):
    if key.startswith('stem.'):
        return 'backbone.' + key
    match = re.match(r'body\.(stage\d+)\.(?:(\d+)\.)?(.+)', key)
    if match:
        stage, index, rest = match.groups()
        index = int(index or 0)
        return (f'backbone.stages.{STAGES[stage]}.{index}.'
                f'{block_key(index, rest)}')
    part, _, rest = key[len('decoder.'):].partition('.')
    if part == 'classifier':
        return f'decode_head.conv_seg.{rest}'
    return f'decode_head.{DECODER_PARTS[part]}.{rest}'


CASES = [
    ParityCase(
        name='RegSeg exp48-decoder26',
        repo='RolandGao+RegSeg',
        build_original=build_original,
        build_ours=build_ours,
        key_map=key_map,
        original_logits=lambda model, x: model(x),
        our_logits=lambda model, x: model.encode_decode(x, [{}]),
        modules=('model', 'blocks', 'competitor_blocks', 'benchmark')),
]
