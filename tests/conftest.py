"""Fixtures shared by the whole suite: running the project's tools and
generated face samples."""
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TESTS_DIR = osp.join(REPO_ROOT, 'tests')
SAMPLE_SIZE = 64
SAMPLE_IMAGES = 10


def free_port():
    """A TCP port on localhost that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='session')
def tool_env():
    """Environment for tool subprocesses: this interpreter's bin first on
    PATH (torchrun, python), the repo and tests/helpers importable, one
    thread per process (two processes share two cores)."""
    env = dict(os.environ)
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO_ROOT, osp.join(TESTS_DIR, 'helpers'),
         env.get('PYTHONPATH', '')])
    env['OMP_NUM_THREADS'] = '1'
    env.pop('MMSEG_FACE_DEBUG', None)
    return env


@pytest.fixture(scope='session')
def run_tool(tool_env):
    """Run a command from the repo root and return the CompletedProcess.

    Each call gets a fresh rendezvous ``PORT`` for torchrun launches.
    """

    def run(args, timeout=600, **env_overrides):
        env = dict(tool_env, PORT=str(free_port()), **env_overrides)
        return subprocess.run(
            [str(a) for a in args], cwd=REPO_ROOT, env=env,
            capture_output=True, text=True, timeout=timeout)

    return run


@pytest.fixture(scope='session')
def sample_root(tmp_path_factory):
    """Converted 10-image samples of every dataset, made once per session.

    Returns a function ``dataset -> data_root``; tests must not modify it.
    """
    from mmseg_face.datasets.sample_faces import make_converted_sample
    roots = {}
    base = tmp_path_factory.mktemp('face_samples')

    def get(dataset):
        if dataset not in roots:
            roots[dataset] = make_converted_sample(
                dataset, str(base), SAMPLE_IMAGES, SAMPLE_SIZE, seed=0)
        return roots[dataset]

    return get


@pytest.fixture(scope='session')
def tiny_checkpoint(tmp_path_factory):
    """Weights of tests/test_apis/data/tiny_fcn_celebamask.py with
    calibrated BN statistics (see face_api_helpers.save_tiny_checkpoint)."""
    from face_api_helpers import save_tiny_checkpoint
    return save_tiny_checkpoint(
        str(tmp_path_factory.mktemp('tiny') / 'tiny_fcn.pth'))
