"""DeepLab v1 LargeFOV against CoinCheung/Deeplab-Large-FOV (``lib/model.py``).

The official DeepLab v1 is Caffe (``deeplab-public``), not on GitHub, so the
reference is CoinCheung's Apache-2.0 PyTorch port of the LargeFOV prototxt.
Stand-in: the port's ``init_weights`` downloads torchvision's ImageNet VGG-16
while the network is built; it is replaced by a no-op, since the driver
overwrites every weight anyway. Both networks upsample their 1/8 logits to
the input size (bilinear, align_corners=True), and those are compared.

The dense CRF is compared with the port's ``utils/crf.py`` (which calls
pydensecrf with DeepLab's parameters) through parameter-free wrappers: the
seeded input gives a uint8 image and 3-class probabilities, and both sides'
label maps are compared as one-hot maps (0 means the same labels).

SETR needs no case: its configs build mmseg 0.30's own ViT and SETR heads.
"""
import os.path as osp

import torch
import torch.nn as nn
import torch.nn.functional as F

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


def our_logits(model, inputs):
    height, width = inputs.shape[-2:]
    meta = dict(img_shape=(height, width, 3), ori_shape=(height, width, 3),
                pad_shape=(height, width, 3), flip=False)
    return model.encode_decode(inputs, [meta])


class CRFLabels(nn.Module):
    """A CRF function ``(image, probs) -> labels`` on a seeded input.

    The input (1, 3, H, W) becomes a uint8 image (H, W, 3) and the softmax
    of 3x its values as probabilities of 3 classes; the output is the
    one-hot (1, 3, H, W) map of the labels the function returns.
    """

    def __init__(self, crf):
        super().__init__()
        self.crf = crf

    def forward(self, inputs):
        image = (inputs[0].permute(1, 2, 0) * 40 + 128).clamp(0, 255)
        image = image.round().to(torch.uint8).numpy()
        probs = torch.softmax(inputs[0] * 3, dim=0).numpy()
        labels = torch.as_tensor(self.crf(image, probs)).long()
        return F.one_hot(labels, probs.shape[0]).permute(2, 0, 1)[None].float()


def build_original_crf(source_dir):
    from utils.crf import crf
    return CRFLabels(lambda image, probs: crf(image, probs[None]))


def build_our_crf():
    from mmseg_face.core.dense_crf import DEEPLAB_V1_CRF, dense_crf
    return CRFLabels(lambda image, probs: dense_crf(
        image, probs, **DEEPLAB_V1_CRF).argmax(axis=0))


def run(model, inputs):
    return model(inputs)


CASES = [
    ParityCase(
        name='DeepLab v1 LargeFOV (VGG-16)',
        repo='CoinCheung+Deeplab-Large-FOV',
        build_original=build_original,
        build_ours=build_ours,
        key_map=key_map,
        original_logits=run,
        our_logits=our_logits,
        modules=('lib', )),
    ParityCase(
        name='DeepLab v1 dense CRF (labels)',
        repo='CoinCheung+Deeplab-Large-FOV',
        build_original=build_original_crf,
        build_ours=build_our_crf,
        key_map=lambda key: None,
        original_logits=run,
        our_logits=run,
        input_shape=(1, 3, 128, 128),
        modules=('utils', )),
]
