"""DeepLab v1 LargeFOV against CoinCheung/Deeplab-Large-FOV (``lib/model.py``).

The official DeepLab v1 is Caffe (``deeplab-public``), not on GitHub, so the
reference is CoinCheung's Apache-2.0 PyTorch port of the LargeFOV prototxt.
Stand-in: the port's ``init_weights`` downloads torchvision's ImageNet VGG-16
while the network is built; it is replaced by a no-op, since the driver
overwrites every weight anyway. Both networks upsample their 1/8 logits to
the input size (bilinear, align_corners=True), and those are compared.

SETR needs no case: its configs build mmseg 0.30's own ViT and SETR heads.
"""
import os.path as osp

from survey_parity import ParityCase

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'local_configs', 'deeplabv1',
                  'deeplabv1_vgg16-largefov_8x2_512x512_80k_celebamask-hq.py')
NUM_CLASSES = 19

# The port's classifier sequence index -> our head's layer.
CLASSIFIER_LAYERS = {'1': 'fc6', '3': 'fc7', '6': 'conv_seg'}


def build_original(source_dir):
    from lib import model
    model.DeepLabLargeFOV.init_weights = lambda self: None
    return model.DeepLabLargeFOV(3, NUM_CLASSES)


def build_ours():
    from mmseg_face.utils.complexity import build_segmentor_from_config
    return build_segmentor_from_config(CONFIG)[0]


def key_map(key):
    part, index, param = key.split('.')
    if part == 'features':
        return f'backbone.{key}'
    return f'decode_head.{CLASSIFIER_LAYERS[index]}.{param}'


def original_logits(model, inputs):
    return model(inputs)


def our_logits(model, inputs):
    height, width = inputs.shape[-2:]
    meta = dict(img_shape=(height, width, 3), ori_shape=(height, width, 3),
                pad_shape=(height, width, 3), flip=False)
    return model.encode_decode(inputs, [meta])


CASES = [
    ParityCase(
        name='DeepLab v1 LargeFOV (VGG-16)',
        repo='CoinCheung+Deeplab-Large-FOV',
        build_original=build_original,
        build_ours=build_ours,
        key_map=key_map,
        original_logits=original_logits,
        our_logits=our_logits,
        modules=('lib', )),
]
