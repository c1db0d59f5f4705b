"""The cache downloader against a local HTTP server: whole, checked,
resumed, refused."""
import hashlib
import os

import pytest

from local_http_server import LocalFileServer

from mmseg_face.utils.download import DownloadError, cache_dir, download

PAYLOAD = os.urandom(300_000)
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def server():
    with LocalFileServer({'/weights.pth': PAYLOAD}) as running:
        yield running


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv('MMSEG_FACE_HOME', str(tmp_path / 'cache'))
    assert cache_dir() == str(tmp_path / 'cache')
    monkeypatch.delenv('MMSEG_FACE_HOME')
    monkeypatch.setenv('HOME', str(tmp_path))
    assert cache_dir() == str(tmp_path / '.cache' / 'mmseg_face')


def test_download_checks_the_sha256_and_is_not_repeated(server, tmp_path):
    dst = tmp_path / 'model' / 'weights.pth'
    path, digest = download(f'{server.url}/weights.pth', str(dst),
                            sha256=SHA256.upper(), progress=False)
    assert path == str(dst) and digest == SHA256
    assert dst.read_bytes() == PAYLOAD
    assert os.listdir(dst.parent) == ['weights.pth']
    assert download(f'{server.url}/weights.pth', str(dst),
                    progress=False) == (str(dst), None)
    assert server.requests == [('/weights.pth', None)]


def test_a_checksum_mismatch_leaves_nothing(server, tmp_path):
    dst = tmp_path / 'cache' / 'model' / 'weights.pth'
    with pytest.raises(DownloadError) as error:
        download(f'{server.url}/weights.pth', str(dst), sha256='0' * 64,
                 progress=False)
    message = str(error.value)
    assert len(message.splitlines()) == 1
    assert f'{server.url}/weights.pth' in message
    assert f'expected {"0" * 64}, got {SHA256}' in message
    assert os.listdir(tmp_path / 'cache') == []


def test_a_cut_download_resumes_with_a_range_request(server, tmp_path):
    dst = tmp_path / 'weights.pth'
    server.cut_after = 100_000
    with pytest.raises(DownloadError, match='interrupted.*100,000 bytes are '
                       'kept.*resumes'):
        download(f'{server.url}/weights.pth', str(dst), sha256=SHA256,
                 progress=False)
    assert not dst.exists()
    part = tmp_path / 'weights.pth.part'
    assert part.read_bytes() == PAYLOAD[:100_000]

    download(f'{server.url}/weights.pth', str(dst), sha256=SHA256,
             progress=True)
    assert server.requests == [('/weights.pth', None),
                               ('/weights.pth', 'bytes=100000-')]
    assert dst.read_bytes() == PAYLOAD
    assert not part.exists()


def test_a_server_ignoring_range_sends_the_file_again(server, tmp_path):
    dst = tmp_path / 'weights.pth'
    (tmp_path / 'weights.pth.part').write_bytes(b'x' * 1000)
    server.honour_range = False
    download(f'{server.url}/weights.pth', str(dst), sha256=SHA256,
             progress=False)
    assert server.requests == [('/weights.pth', 'bytes=1000-')]
    assert dst.read_bytes() == PAYLOAD


def test_a_part_longer_than_the_file_starts_anew(server, tmp_path):
    dst = tmp_path / 'weights.pth'
    (tmp_path / 'weights.pth.part').write_bytes(b'x' * 400_000)
    download(f'{server.url}/weights.pth', str(dst), sha256=SHA256,
             progress=False)
    assert server.requests == [('/weights.pth', 'bytes=400000-'),
                               ('/weights.pth', None)]
    assert dst.read_bytes() == PAYLOAD


def test_missing_file_and_dead_server_are_one_line_errors(server, tmp_path):
    with pytest.raises(DownloadError, match=r'HTTP 404'):
        download(f'{server.url}/other.pth', str(tmp_path / 'a' / 'o.pth'),
                 progress=False)
    url = server.url
    server.stop()
    with pytest.raises(DownloadError, match='download failed') as error:
        download(f'{url}/weights.pth', str(tmp_path / 'b' / 'w.pth'),
                 progress=False)
    assert len(str(error.value).splitlines()) == 1
    assert os.listdir(tmp_path) == []
