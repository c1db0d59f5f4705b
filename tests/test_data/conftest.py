import pytest

from mmseg_face.datasets.sample_faces import make_converted_sample

SAMPLE_SIZE = 64
SAMPLE_IMAGES = 10


@pytest.fixture(scope='session')
def sample_root(tmp_path_factory):
    """Converted 10-image samples of every dataset, made once per session.

    Returns a function ``dataset -> data_root``; tests must not modify it.
    """
    roots = {}
    base = tmp_path_factory.mktemp('face_samples')

    def get(dataset):
        if dataset not in roots:
            roots[dataset] = make_converted_sample(
                dataset, str(base), SAMPLE_IMAGES, SAMPLE_SIZE, seed=0)
        return roots[dataset]

    return get
