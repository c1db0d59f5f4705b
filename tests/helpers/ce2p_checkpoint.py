"""mmseg ResNet weights written the way CE2P's deep-stem ResNet names them."""
import torch

STEM_RENAMES = {'stem.0': 'conv1', 'stem.1': 'bn1', 'stem.3': 'conv2',
                'stem.4': 'bn2', 'stem.6': 'conv3', 'stem.7': 'bn3'}


def as_ce2p(state_dict):
    """Rename mmseg's keys to CE2P's (by hand), add DDP's ``module.`` prefix
    and an ImageNet classifier, as the original file has them."""
    renamed = {}
    for key, value in state_dict.items():
        for ours, theirs in STEM_RENAMES.items():
            if key.startswith(ours + '.'):
                key = theirs + key[len(ours):]
        renamed['module.' + key] = value.clone()
    renamed['module.fc.weight'] = torch.zeros(1000, 2048)
    return dict(state_dict=renamed)
