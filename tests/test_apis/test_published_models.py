"""Published models by name: download from a local server, convert once
with the real converter, cache, parse; local files offline; bad names and
bad files as one clear error; the command line."""
import contextlib
import dataclasses
import hashlib
import io
import os
import os.path as osp
import runpy
import sys

import mmcv
import numpy as np
import pytest
import torch

from local_http_server import LocalFileServer
from published_checkpoints import synthetic_original

from mmseg_face.apis import (PUBLISHED_MODELS, FaceParser, PublishedModelError,
                             resolve_published_model)
from mmseg_face.datasets import CelebAMaskHQDataset
from mmseg_face.utils.checkpoint import CheckpointError
from mmseg_face.utils.download import DownloadError

NAME = 'bisenet-zll-celebamask'
CONVERTED = f'{NAME}/{NAME}_mmseg.pth'
# A local address where nothing listens: a test that reached the network
# for a cached model would fail instead of downloading the real file.
DEAD_URL = 'http://127.0.0.1:9/parsing_bisenet.pth'


def original_bytes(fixture):
    buffer = io.BytesIO()
    torch.save(synthetic_original(fixture), buffer)
    return buffer.getvalue()


@pytest.fixture(scope='module')
def zll_bytes():
    """A synthetic ``79999_iter.pth`` (= ``parsing_bisenet.pth``)."""
    return original_bytes('face_bisenet_zll')


def publish(monkeypatch, name, url, sha256):
    """Point the registry entry ``name`` at ``url`` with ``sha256``."""
    monkeypatch.setitem(PUBLISHED_MODELS, name, dataclasses.replace(
        PUBLISHED_MODELS[name], url=url, sha256=sha256))


@pytest.fixture(scope='module')
def first_use(tmp_path_factory, zll_bytes):
    """``FaceParser.from_pretrained(NAME)`` into an empty cache, served
    from a local server that is stopped afterwards."""
    cache = tmp_path_factory.mktemp('cache')
    stderr = io.StringIO()
    with pytest.MonkeyPatch.context() as monkeypatch, \
            LocalFileServer({'/parsing_bisenet.pth': zll_bytes}) as server:
        monkeypatch.setenv('MMSEG_FACE_HOME', str(cache))
        publish(monkeypatch, NAME, f'{server.url}/parsing_bisenet.pth',
                hashlib.sha256(zll_bytes).hexdigest())
        with contextlib.redirect_stderr(stderr):
            parser = FaceParser.from_pretrained(NAME, progress=False)
    return dict(cache=cache, parser=parser, requests=server.requests,
                stderr=stderr.getvalue())


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv('MMSEG_FACE_HOME', str(tmp_path / 'cache'))
    return tmp_path / 'cache'


@pytest.fixture
def face_image(tmp_path):
    path = str(tmp_path / 'face.png')
    mmcv.imwrite(np.random.default_rng(0).integers(
        0, 255, (72, 64, 3), dtype=np.uint8), path)
    return path


def cache_files(cache):
    return sorted(osp.relpath(osp.join(folder, name), cache)
                  for folder, _, names in os.walk(cache) for name in names)


def test_first_use_downloads_converts_and_parses(first_use, zll_bytes,
                                                 face_image):
    assert first_use['requests'] == [('/parsing_bisenet.pth', None)]
    assert cache_files(first_use['cache']) == [
        CONVERTED, f'{NAME}/parsing_bisenet.pth']
    assert (first_use['cache'] / NAME / 'parsing_bisenet.pth').read_bytes() \
        == zll_bytes
    notice = first_use['stderr']
    assert 'zllrunning/face-parsing.PyTorch' in notice
    assert 'licence: MIT' in notice and 'non-commercial' in notice

    parser = first_use['parser']
    assert parser.classes == CelebAMaskHQDataset.CLASSES
    labels = parser.parse(face_image)
    assert labels.shape == (72, 64) and labels.dtype == np.uint8
    assert labels.max() < 19
    # The converter ran: official order (nose = 2) from zll's nose (10).
    checkpoint = torch.load(first_use['cache'] / CONVERTED,
                            weights_only=True)
    original = synthetic_original('face_bisenet_zll')
    assert torch.equal(checkpoint['state_dict']['decode_head.conv_seg.weight']
                       [2], original['conv_out.conv_out.weight'][10])
    assert checkpoint['meta']['source']['sha256'] == \
        hashlib.sha256(zll_bytes).hexdigest()


def test_a_cached_model_needs_no_network_and_no_conversion(
        first_use, monkeypatch, capsys, face_image):
    monkeypatch.setenv('MMSEG_FACE_HOME', str(first_use['cache']))
    publish(monkeypatch, NAME, DEAD_URL, None)
    converted = first_use['cache'] / CONVERTED
    written = converted.stat().st_mtime_ns
    parser = FaceParser.from_pretrained(NAME, optimize=False)
    assert converted.stat().st_mtime_ns == written
    assert capsys.readouterr().err == ''  # the licence only on first use
    assert np.array_equal(parser.parse(face_image),
                          first_use['parser'].parse(face_image))


def test_a_checksum_mismatch_is_one_error_and_caches_nothing(cache,
                                                             monkeypatch):
    with LocalFileServer({'/parsing_bisenet.pth': b'not these bytes'}) as \
            server:
        publish(monkeypatch, NAME, f'{server.url}/parsing_bisenet.pth',
                '1' * 64)
        with pytest.raises(DownloadError) as error:
            FaceParser.from_pretrained(NAME, progress=False)
    message = str(error.value)
    assert len(message.splitlines()) == 1
    assert 'sha256 mismatch' in message and 'nothing is cached' in message
    assert cache_files(cache) == []


@pytest.mark.parametrize('damage, reason', [
    (lambda data: data[:len(data) // 2], 'truncated'),
    (lambda data: b'<html>Not Found</html>', 'not a PyTorch checkpoint')],
    ids=['truncated', 'html'])
def test_a_damaged_download_is_named_and_deleted(cache, monkeypatch, capsys,
                                                 damage, reason):
    # yakhyo's files have no published sha256: the download's is reported.
    name = 'bisenet-yakhyo-r18-celebamask'
    data = damage(original_bytes('face_bisenet_yakhyo_r18'))
    with LocalFileServer({'/resnet18.pt': data}) as server:
        publish(monkeypatch, name, f'{server.url}/resnet18.pt', None)
        with pytest.raises(CheckpointError) as error:
            resolve_published_model(name, progress=False)
    downloaded = str(cache / name / 'resnet18.pt')
    assert error.value.filename == downloaded
    assert str(error.value).startswith(downloaded)
    assert reason in str(error.value) and 'was deleted' in str(error.value)
    assert len(str(error.value).splitlines()) == 1
    assert f'sha256 {hashlib.sha256(data).hexdigest()}' in \
        capsys.readouterr().err
    assert cache_files(cache) == []


def test_a_local_original_is_converted_offline(cache, tmp_path, zll_bytes,
                                               monkeypatch):
    publish(monkeypatch, NAME, DEAD_URL, None)  # nor known by its sha256
    local = tmp_path / '79999_iter.pth'
    local.write_bytes(zll_bytes)
    messages = []
    model, checkpoint = resolve_published_model(local, log=messages.append)
    assert model.name == NAME
    sha256 = hashlib.sha256(zll_bytes).hexdigest()
    assert checkpoint == str(cache / 'local' / f'{NAME}-{sha256[:16]}'
                             '_mmseg.pth')
    assert len(messages) == 1 and 'licence: MIT' in messages[0]

    renamed = tmp_path / 'weights.pth'
    renamed.write_bytes(zll_bytes)
    with pytest.raises(PublishedModelError, match='cannot tell which'):
        resolve_published_model(renamed)
    # Named explicitly: the same content, already converted.
    assert resolve_published_model(renamed, model_name=NAME,
                                   log=messages.append) == (model, checkpoint)
    assert len(messages) == 1


def test_a_damaged_local_file_is_named_and_kept(cache, tmp_path, zll_bytes):
    local = tmp_path / '79999_iter.pth'
    local.write_bytes(zll_bytes[:1000])
    with pytest.raises(CheckpointError, match='truncated') as error:
        resolve_published_model(local, log=lambda message: None)
    assert error.value.filename == str(local)
    assert local.read_bytes() == zll_bytes[:1000]


def test_unknown_names_list_the_known_ones(cache):
    with pytest.raises(PublishedModelError) as error:
        FaceParser.from_pretrained('bisenet-nonexistent')
    message = str(error.value)
    assert "unknown published model 'bisenet-nonexistent'" in message
    assert all(name in message for name in PUBLISHED_MODELS)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        resolve_published_model('missing.pth')


def test_every_entry_has_its_config_and_an_upstream_url():
    """A GitHub release asset or a Hugging Face hub file (the projects'
    own hosts) or, for a file to download by hand, the page it is on."""
    for model in PUBLISHED_MODELS.values():
        assert osp.isfile(model.config_path), model.name
        if model.manual_download:
            assert model.url in model.manual_download, model.name
        else:
            assert model.url.startswith(
                ('https://github.com/', 'https://huggingface.co/')) and \
                model.url.endswith('/' + model.file), model.name
        assert model.sha256 is None or len(model.sha256) == 64


def test_parse_faces_with_a_model_name(first_use, run_tool, face_image,
                                       tmp_path):
    out = tmp_path / 'parsed'
    result = run_tool(['python', 'tools/parse_faces.py', '--model', NAME,
                       face_image, '--out', out],
                      MMSEG_FACE_HOME=str(first_use['cache']))
    assert result.returncode == 0, result.stderr[-3000:]
    labels = mmcv.imread(str(out / 'labels' / 'face.png'), 'unchanged')
    assert labels.shape == (72, 64)
    assert np.array_equal(labels, first_use['parser'].parse(face_image))


def test_parse_faces_list_models_and_unknown_model(run_tool, face_image,
                                                   tmp_path):
    listed = run_tool(['python', 'tools/parse_faces.py', '--list-models'],
                      MMSEG_FACE_HOME=str(tmp_path / 'cache'))
    assert listed.returncode == 0, listed.stderr[-3000:]
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ['name', 'original', 'project', 'file',
                                'size', 'licence', 'classes', 'dataset']
    zll = next(line for line in lines if line.startswith(NAME + ' '))
    assert zll.split()[-6:] == ['parsing_bisenet.pth', '53.3', 'MB', 'MIT',
                                '19', 'CelebAMask-HQ']
    assert all(any(line.startswith(name + ' ') for line in lines)
               for name in PUBLISHED_MODELS)
    assert 'non-commercial' in listed.stdout
    assert str(tmp_path / 'cache') in listed.stdout

    unknown = run_tool(['python', 'tools/parse_faces.py', '--model',
                        'no-such-parser', face_image, '--out',
                        tmp_path / 'out'],
                       MMSEG_FACE_HOME=str(tmp_path / 'cache'))
    assert unknown.returncode == 1
    assert 'Traceback' not in unknown.stderr, unknown.stderr[-3000:]
    errors = [line for line in unknown.stderr.splitlines()
              if 'error:' in line]
    assert len(errors) == 1 and 'no-such-parser' in errors[0]
    assert all(name in errors[0] for name in PUBLISHED_MODELS)
    assert not (tmp_path / 'cache').exists()


@pytest.mark.parametrize('argv, message', [
    (['--model', NAME, 'cfg.py', 'ckpt.pth', 'face.png', '--out', 'o'],
     'expected INPUT, got 3 positional arguments'),
    (['cfg.py', 'face.png', '--out', 'o'],
     'expected CONFIG CHECKPOINT INPUT, got 2 positional arguments'),
    (['--model-name', NAME, 'cfg.py', 'ckpt.pth', 'face.png', '--out', 'o'],
     '--model-name needs --model FILE'),
    (['--model', NAME, 'face.png'], 'required: --out')])
def test_parse_faces_refuses_mixed_model_arguments(monkeypatch, capsys, argv,
                                                   message):
    tool = osp.join(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))), 'tools', 'parse_faces.py')
    monkeypatch.setattr(sys, 'argv', [tool, *argv])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(tool, run_name='__main__')
    assert exit_.value.code == 2
    errors = [line for line in capsys.readouterr().err.splitlines()
              if 'error:' in line]
    assert len(errors) == 1 and message in errors[0]
