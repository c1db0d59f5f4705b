"""Fault injection for checkpoints: damaged, foreign and unsafe files give one
clear line (or a named exception) and nothing is evaluated; interrupted saves
leave the previous checkpoint intact."""
import os
import os.path as osp
import pickle
import socket
import struct
import zipfile

import pytest
import torch
import torch.nn as nn
from mmcv import Config
from mmcv.runner import IterBasedRunner, load_checkpoint
from mmseg.models import build_segmentor

import mmseg_face  # noqa: F401  (patches)
from mmseg_face.utils.checkpoint import (CONTENT_HASH_KEY, CheckpointError,
                                         CheckpointMismatchError,
                                         UnsafeCheckpointError,
                                         load_from_local, save_checkpoint)
from tiny_segmentation import make_tiny_dataset, write_tiny_config
from tool_output import assert_one_error_line


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """The tiny 3-class config on its data, and a checkpoint that fits it."""
    root = tmp_path_factory.mktemp('checkpoint_faults')
    make_tiny_dataset(str(root / 'data'), num_train=2, num_val=1)
    config = write_tiny_config(str(root / 'tiny.py'), str(root / 'data'))
    checkpoint = str(root / 'fits.pth')
    save_checkpoint(_tiny_model(config), checkpoint)
    return root, config, checkpoint


def _tiny_model(config, **decode_head):
    cfg = Config.fromfile(config)
    cfg.model.decode_head.update(decode_head)
    torch.manual_seed(0)
    return build_segmentor(cfg.model)


def _test_tool(run_tool, config, checkpoint):
    return run_tool(['python', 'tools/test.py', config, checkpoint,
                     '--eval', 'mIoU'])


def _assert_not_evaluated(result):
    assert 'mIoU' not in result.stdout and 'aAcc' not in result.stdout


def _largest_tensor_offset(path):
    """File offset of the middle of the largest tensor record of a
    torch.save zip (records are stored uncompressed)."""
    with zipfile.ZipFile(path) as archive:
        info = max((i for i in archive.infolist() if '/data/' in i.filename),
                   key=lambda i: i.file_size)
    with open(path, 'rb') as f:
        f.seek(info.header_offset)
        header = f.read(30)
    name_length, extra_length = struct.unpack('<HH', header[26:30])
    return info.header_offset + 30 + name_length + extra_length + \
        info.file_size // 2


# ------------------------------------------------- tools/test.py, wrong file


def test_test_tool_refuses_checkpoint_of_other_class_count(run_tool, tiny,
                                                          tmp_path):
    _, config, _ = tiny
    other = str(tmp_path / 'five_classes.pth')
    save_checkpoint(_tiny_model(config, num_classes=5), other)
    result = _test_tool(run_tool, config, other)
    assert_one_error_line(result, other, 'do not fit the model',
                          '2 keys of another shape',
                          'decode_head.conv_seg.weight (5, 16, 1, 1) in the '
                          'file, (3, 16, 1, 1) in the model')
    _assert_not_evaluated(result)


def test_test_tool_refuses_checkpoint_with_other_keys(run_tool, tiny,
                                                      tmp_path):
    _, config, _ = tiny
    other = str(tmp_path / 'other_model.pth')
    save_checkpoint(nn.Sequential(nn.Conv2d(3, 4, 3)), other)
    result = _test_tool(run_tool, config, other)
    expected_missing = len(
        [k for k in _tiny_model(config).state_dict()
         if not k.endswith('num_batches_tracked')])
    line = assert_one_error_line(result, other, 'do not fit the model',
                                 f'{expected_missing} missing keys',
                                 'backbone.stem.0.weight',
                                 '2 unexpected keys (0.weight, 0.bias)')
    assert line.count(', ...') == 1  # only the long list is cut
    _assert_not_evaluated(result)


@pytest.mark.parametrize('damage, fragment', [
    ('empty', 'empty file (0 bytes)'),
    ('truncated', 'truncated checkpoint'),
    ('text', "not a PyTorch checkpoint: it starts with b'lr: 0.01'"),
    ('overwritten', "the 'state_dict' tensors do not match the content hash"),
])
def test_test_tool_names_damaged_checkpoint(run_tool, tiny, tmp_path, damage,
                                            fragment):
    _, config, fits = tiny
    path = str(tmp_path / f'{damage}.pth')
    with open(fits, 'rb') as f:
        content = f.read()
    if damage == 'empty':
        content = b''
    elif damage == 'truncated':
        content = content[:len(content) // 2]
    elif damage == 'text':
        content = b'lr: 0.01\nmomentum: 0.9\n'
    else:
        offset = _largest_tensor_offset(fits)
        content = content[:offset] + bytes(255 - b for b in content[
            offset:offset + 16]) + content[offset + 16:]
    with open(path, 'wb') as f:
        f.write(content)
    if damage == 'overwritten':  # torch itself notices nothing
        torch.load(path, weights_only=True)
    result = _test_tool(run_tool, config, path)
    line = assert_one_error_line(result, path, fragment)
    assert 'unsafe' not in line and 'weights-only' not in line
    _assert_not_evaluated(result)
    with open(path, 'rb') as f:
        assert f.read() == content  # the file is left as it was


# ------------------------------------------------------ API and exceptions


class Payload:
    """Stands for an arbitrary pickled object in an untrusted checkpoint."""


def test_unsafe_checkpoint_is_an_unpickling_error_naming_the_object(tmp_path):
    path = str(tmp_path / 'unsafe.pth')
    torch.save(dict(state_dict={}, meta=dict(extra=Payload())), path)
    with pytest.raises(pickle.UnpicklingError) as error:
        load_checkpoint(nn.Linear(2, 2), path, map_location='cpu')
    assert isinstance(error.value, UnsafeCheckpointError)
    assert isinstance(error.value, CheckpointError)
    assert str(error.value).startswith(f'{path}: refused by weights-only')
    assert f'holds a {__name__}.Payload object' in str(error.value)


def _tiny_face_checkpoint_of_11_classes(path):
    from face_api_helpers import TINY_CONFIG
    cfg = Config.fromfile(TINY_CONFIG)
    cfg.model.decode_head.num_classes = 11
    save_checkpoint(build_segmentor(cfg.model), path)
    return TINY_CONFIG, path


def test_face_parser_refuses_weights_of_other_class_count(tmp_path):
    from mmseg_face.apis import FaceParser
    config, path = _tiny_face_checkpoint_of_11_classes(
        str(tmp_path / 'lapa_classes.pth'))
    with pytest.raises(CheckpointMismatchError) as error:
        FaceParser(config, path, optimize=False)
    assert error.value.filename == path
    assert not error.value.missing and not error.value.unexpected
    assert [key for key, _, _ in error.value.mismatched] == [
        'decode_head.conv_seg.weight', 'decode_head.conv_seg.bias']
    assert error.value.mismatched[1][1:] == ((11, ), (19, ))


def test_parse_faces_refuses_weights_of_other_class_count(run_tool,
                                                          tmp_path):
    import cv2
    from face_api_helpers import draw_face
    config, path = _tiny_face_checkpoint_of_11_classes(
        str(tmp_path / 'lapa_classes.pth'))
    image = str(tmp_path / 'face.png')
    cv2.imwrite(image, draw_face(64))
    out = tmp_path / 'out'
    result = run_tool(['python', 'tools/parse_faces.py', config, path, image,
                       '--out', out])
    assert_one_error_line(result, path, 'decode_head.conv_seg.weight '
                          '(11, 16, 1, 1) in the file, (19, 16, 1, 1)')
    assert not out.exists() or not any(out.iterdir())


def test_checkpoint_without_hash_still_loads(tmp_path):
    source = nn.Linear(2, 3)
    path = str(tmp_path / 'third_party.pth')
    torch.save(source.state_dict(), path)
    target = nn.Linear(2, 3)
    load_checkpoint(target, path, map_location='cpu')
    assert torch.equal(target.weight, source.weight)


def test_hash_still_checks_weights_after_optimizer_is_dropped(tmp_path):
    model = nn.Linear(2, 3)
    path = str(tmp_path / 'trained.pth')
    save_checkpoint(model, path,
                    optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    checkpoint = torch.load(path, weights_only=True)
    assert set(checkpoint['meta'][CONTENT_HASH_KEY]) == {'state_dict',
                                                        'optimizer'}
    del checkpoint['optimizer']  # as publishing scripts do
    torch.save(checkpoint, path)
    assert torch.equal(load_from_local(path)['state_dict']['weight'],
                       model.weight)
    checkpoint['state_dict']['bias'] += 1
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match="'state_dict' tensors"):
        load_from_local(path)


# ------------------------------------------------------------------ saving


class _Trainable(nn.Linear):

    def __init__(self):
        super().__init__(4, 4)

    def train_step(self, data, optimizer):
        return dict(loss=self(data).sum(), log_vars={}, num_samples=1)


def _runner(work_dir, model):
    import logging
    return IterBasedRunner(
        model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        work_dir=work_dir, logger=logging.getLogger('checkpoint_faults'))


def test_interrupted_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    from mmcv.fileio.file_client import HardDiskBackend
    work_dir = str(tmp_path)
    runner = _runner(work_dir, _Trainable())
    runner._iter = 3
    runner.save_checkpoint(work_dir)
    with open(tmp_path / 'iter_4.pth', 'rb') as f:
        saved = f.read()

    def write_half_then_fail(self, obj, filepath):
        with open(filepath, 'wb') as f:
            f.write(obj[:len(obj) // 2])
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(HardDiskBackend, 'put', write_half_then_fail)
    runner._iter = 7
    with torch.no_grad():
        runner.model.weight += 1
    with pytest.raises(OSError, match='No space left'):
        runner.save_checkpoint(work_dir)
    assert sorted(os.listdir(work_dir)) == ['iter_4.pth', 'latest.pth']
    assert os.readlink(tmp_path / 'latest.pth') == 'iter_4.pth'
    with open(tmp_path / 'iter_4.pth', 'rb') as f:
        assert f.read() == saved
    monkeypatch.undo()
    runner.save_checkpoint(work_dir)
    assert os.readlink(tmp_path / 'latest.pth') == 'iter_8.pth'
    meta = torch.load(tmp_path / 'iter_8.pth', weights_only=True)['meta']
    assert set(meta[CONTENT_HASH_KEY]) == {'state_dict', 'optimizer'}
    resumed = _runner(work_dir, _Trainable())
    resumed.resume(str(tmp_path / 'latest.pth'), map_location='cpu')
    assert resumed.iter == 7
    assert torch.equal(resumed.model.weight, runner.model.weight)


def test_save_removes_partial_files_of_dead_processes_only(tmp_path):
    host = socket.gethostname().replace('.', '_')
    dead = tmp_path / f'.iter_8.pth.{host}.{2**22 + 1}.partial'
    alive = tmp_path / f'.iter_8.pth.{host}.{os.getppid()}.partial'
    other_host = tmp_path / f'.iter_8.pth.otherhost.{2**22 + 1}.partial'
    for path in (dead, alive, other_host):
        path.write_bytes(b'half a checkpoint')
    save_checkpoint(nn.Linear(2, 2), str(tmp_path / 'iter_12.pth'))
    assert not dead.exists()
    assert alive.exists() and other_host.exists()
    assert osp.isfile(tmp_path / 'iter_12.pth')


# ------------------------------------------------------- training load_from


def test_train_refuses_load_from_that_does_not_fit(run_tool, tiny, tmp_path):
    _, config, _ = tiny
    other = str(tmp_path / 'five_classes.pth')
    save_checkpoint(_tiny_model(config, num_classes=5), other)
    work_dir = tmp_path / 'work'
    result = run_tool(['python', 'tools/train.py', config, '--work-dir',
                       work_dir, '--cfg-options', f'load_from={other}'])
    assert_one_error_line(result, other, 'decode_head.conv_seg.weight')
    assert not list(work_dir.glob('*.pth'))  # refused before training


def test_train_fine_tunes_with_allowed_mismatch(run_tool, tiny, tmp_path):
    _, config, _ = tiny
    source = _tiny_model(config, num_classes=5)
    other = str(tmp_path / 'five_classes.pth')
    save_checkpoint(source, other)
    work_dir = tmp_path / 'work'
    result = run_tool([
        'python', 'tools/train.py', config, '--work-dir', work_dir,
        '--cfg-options', f'load_from={other}',
        "load_from_allow_mismatch=['decode_head.conv_seg']",
        'runner.max_iters=1', 'optimizer.lr=0', 'lr_config.min_lr=0'])
    assert result.returncode == 0, result.stderr[-3000:]
    trained = load_from_local(str(work_dir / 'iter_1.pth'))['state_dict']
    # lr 0: the loaded backbone is what the one iteration saved
    assert torch.equal(trained['backbone.stem.0.weight'],
                       source.state_dict()['backbone.stem.0.weight'])
    assert trained['decode_head.conv_seg.weight'].shape[0] == 3


def test_allowed_mismatch_covers_whole_module_names_only(tiny):
    from mmseg_face.utils.checkpoint import check_fit
    _, config, _ = tiny
    weights = _tiny_model(config, num_classes=5).state_dict()
    model = _tiny_model(config)
    check_fit(model, weights, 'five.pth', 'decode_head.conv_seg')
    with pytest.raises(CheckpointMismatchError) as error:
        check_fit(model, weights, 'five.pth', ['decode_head.conv'])
    assert len(error.value.mismatched) == 2


# --------------------------------------------------------- model converter


def test_converter_names_truncated_source(run_tool, tiny, tmp_path):
    _, _, fits = tiny
    source = tmp_path / 'truncated.pth'
    with open(fits, 'rb') as f:
        source.write_bytes(f.read()[:-20])
    out = tmp_path / 'converted.pth'
    result = run_tool(['python', 'tools/model_converters/ce2p_resnet.py',
                       source, out])
    assert_one_error_line(result, str(source), 'truncated checkpoint')
    assert not out.exists()


def test_converter_refuses_weights_that_do_not_fit_resnet(run_tool, tmp_path):
    from ce2p_checkpoint import as_ce2p
    from mmseg.models import build_backbone
    resnet = build_backbone(dict(type='ResNet', depth=50, deep_stem=True,
                                 stem_channels=64))  # CE2P's stem has 128
    source = tmp_path / 'stem64.pth'
    torch.save(as_ce2p(resnet.state_dict()), source)
    out = tmp_path / 'converted.pth'
    result = run_tool(['python', 'tools/model_converters/ce2p_resnet.py',
                       source, out])
    assert_one_error_line(result, str(source), 'keys of another shape',
                          'stem.0.weight (32, 3, 3, 3) in the file, '
                          '(64, 3, 3, 3) in the model')
    assert not out.exists()
