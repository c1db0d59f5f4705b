"""Fixtures of the API tests: a tiny random-weight face parser."""
import pytest

from face_api_helpers import TINY_CONFIG, save_tiny_checkpoint


@pytest.fixture(scope='session')
def tiny_checkpoint(tmp_path_factory):
    return save_tiny_checkpoint(
        str(tmp_path_factory.mktemp('tiny') / 'tiny_fcn.pth'))


@pytest.fixture(scope='session')
def tiny_parser(tiny_checkpoint):
    from mmseg_face.apis import FaceParser
    return FaceParser(TINY_CONFIG, tiny_checkpoint, device='cpu')

