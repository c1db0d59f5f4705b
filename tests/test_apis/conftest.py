"""Fixtures of the API tests: a tiny random-weight face parser."""
import pytest

from face_api_helpers import TINY_CONFIG


@pytest.fixture(scope='session')
def tiny_parser(tiny_checkpoint):
    from mmseg_face.apis import FaceParser
    return FaceParser(TINY_CONFIG, tiny_checkpoint, device='cpu')
