"""Fault injection for the dataset converters and dataset classes.

Each test provokes one fault a user can meet and checks the exit status,
that the one-line message names the file or option, that no traceback is
printed and that no earlier output was lost or left half-written. Tools run
in this process (``run_here``: the same ``main`` a shell runs, an exception
other than ``SystemExit`` fails the test) to save the start-up time; the
cases about a second process run the tool as a real subprocess.
"""
import errno
import fcntl
import hashlib
import json
import os
import os.path as osp
import runpy
import struct
import subprocess
import sys
import zlib
from typing import NamedTuple

import cv2
import numpy as np
import pytest
from dead_process import dead_pid

from mmseg_face.datasets.converters import (ConversionError, common,
                                            convert_celebamask_hq,
                                            convert_lapa)
from mmseg_face.datasets.converters.common import TEMP_MARK
from mmseg_face.datasets.converters.output_folder import (
    LOCK_FILE, MANIFEST, claim_dataset_output)
from mmseg_face.datasets.sample_faces import make_sample_release

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LAPA_TOOL = 'tools/convert_datasets/lapa.py'
HELEN_TOOL = 'tools/convert_datasets/helen.py'
CELEBA_TOOL = 'tools/convert_datasets/celebamask_hq.py'
EDGE_TOOL = 'tools/generate_edges.py'
MAPPING = 'CelebA-HQ-to-CelebA-mapping.txt'


def _hashes(root):
    """sha256 of every file under ``root``, hidden ones included, except
    the lock file (which names the PID of the latest run)."""
    hashes = {}
    for directory, _, names in os.walk(root):
        for name in set(names) - {LOCK_FILE}:
            path = osp.join(directory, name)
            with open(path, 'rb') as f:
                hashes[osp.relpath(path, root)] = hashlib.sha256(
                    f.read()).hexdigest()
    return hashes


def _temp_files(root):
    return [path for path in _hashes(root) if TEMP_MARK in path]


class ToolRun(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run_here(capsys, monkeypatch):
    """Run ``python TOOL ARGS...`` in this process; return a ToolRun.

    Runs one worker (``--nproc 1``) unless told otherwise: forking the
    test process is slow.
    """

    def run(args):
        args = [str(arg) for arg in args]
        if '--nproc' not in args:
            args += ['--nproc', '1']
        assert args[0] == 'python'
        capsys.readouterr()
        monkeypatch.setattr(sys, 'argv', args[1:])
        with pytest.raises(SystemExit) as exit_info:
            runpy.run_path(osp.join(REPO_ROOT, args[1]), run_name='__main__')
        out, err = capsys.readouterr()
        return ToolRun(exit_info.value.code, out, err)

    return run


def _assert_one_error_line(proc, *fragments):
    """Exit 1, exactly one ``error:`` line holding every fragment.

    Other stderr lines are the library warnings of start-up (torch, mmcv).
    """
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'Traceback' not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if ': error: ' in line]
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert str(fragment) in lines[0], (fragment, lines[0])


@pytest.fixture
def lapa_release(tmp_path):
    return make_sample_release(
        'lapa', str(tmp_path / 'lapa_release'), num_images=3, image_size=16)


@pytest.fixture
def celeba_release(tmp_path):
    return make_sample_release(
        'celebamask_hq', str(tmp_path / 'celeba_release'), num_images=3,
        image_size=32, mask_size=16)


def test_second_dataset_into_same_folder_refuses(run_here, run_tool,
                                                 tmp_path, lapa_release):
    out = tmp_path / 'out'
    proc = run_here(['python', LAPA_TOOL, lapa_release, '-o', out])
    assert proc.returncode == 0, proc.stderr
    before = _hashes(out)
    helen = make_sample_release(
        'helen', str(tmp_path / 'helen_release'), num_images=3,
        image_size=16)
    proc = run_tool(['python', HELEN_TOOL, helen, '-o', out])
    _assert_one_error_line(proc, out, 'holds a lapa conversion',
                           'this run converts helen', '--overwrite')
    assert _hashes(out) == before


def test_other_options_refuse_and_overwrite_replaces(run_here, tmp_path,
                                                     celeba_release):
    out, reference = tmp_path / 'out', tmp_path / 'reference'
    proc = run_here(['python', CELEBA_TOOL, celeba_release, '-o', out])
    assert proc.returncode == 0, proc.stderr
    before = _hashes(out)
    segnext = ['--split-scheme', 'segnext', '--keep-image-size']
    proc = run_here(['python', CELEBA_TOOL, celeba_release, '-o', out] +
                    segnext)
    _assert_one_error_line(proc, out, "split_scheme='celeba' (now 'segnext')",
                           'keep_image_size=False (now True)')
    assert _hashes(out) == before

    proc = run_here(['python', CELEBA_TOOL, celeba_release, '-o', out,
                     '--overwrite'] + segnext)
    assert proc.returncode == 0, proc.stderr
    assert 'written: 3, skipped (already done): 0' in proc.stdout
    # 3 images, 3 labels, 3 split files and the manifest
    assert '--overwrite removed 10 files of the earlier conversion' in \
        proc.stdout
    proc = run_here(['python', CELEBA_TOOL, celeba_release, '-o', reference] +
                    segnext)
    assert proc.returncode == 0, proc.stderr
    # Nothing of the first conversion is left: the folder equals a fresh one.
    assert _hashes(out) == _hashes(reference)
    with open(out / MANIFEST) as f:
        assert json.load(f)['options'] == dict(
            split_scheme='segnext', keep_image_size=True)


def test_other_release_of_same_dataset_refuses(run_here, tmp_path,
                                               lapa_release):
    out = tmp_path / 'out'
    assert run_here(['python', LAPA_TOOL, lapa_release, '-o',
                     out]).returncode == 0
    before = _hashes(out)
    other = make_sample_release(
        'lapa', str(tmp_path / 'other'), num_images=4, image_size=16, seed=1)
    proc = run_here(['python', LAPA_TOOL, other, '-o', out])
    _assert_one_error_line(proc, out, 'was converted from another release',
                           lapa_release, other)
    assert _hashes(out) == before


def test_folder_of_unknown_origin_refuses(run_here, tmp_path, lapa_release):
    out = tmp_path / 'out'
    (out / 'images').mkdir(parents=True)
    (out / 'images' / 'mine.jpg').write_bytes(b'not from a converter')
    proc = run_here(['python', LAPA_TOOL, lapa_release, '-o', out])
    _assert_one_error_line(proc, out, 'images/mine.jpg', f'no {MANIFEST}')
    assert (out / 'images' / 'mine.jpg').read_bytes() == \
        b'not from a converter'


@pytest.mark.parametrize('manifest', [b'\xff\xfe', b'[1, 2]'])
def test_damaged_manifest_refuses(run_here, tmp_path, lapa_release, manifest):
    out = tmp_path / 'out'
    convert_lapa(lapa_release, str(out))
    (out / MANIFEST).write_bytes(manifest)
    before = _hashes(out)
    proc = run_here(['python', LAPA_TOOL, lapa_release, '-o', out])
    _assert_one_error_line(proc, out, MANIFEST, '--overwrite')
    assert _hashes(out) == before


def test_running_conversion_holds_the_folder(run_tool, tmp_path,
                                             lapa_release):
    out = str(tmp_path / 'out')
    with claim_dataset_output(out, 'lapa', {}, lapa_release, False):
        before = _hashes(out)
        proc = run_tool(['python', LAPA_TOOL, lapa_release, '-o', out])
        _assert_one_error_line(proc, out, f'PID {os.getpid()}',
                               'another conversion')
        assert _hashes(out) == before


def test_stale_lock_of_dead_process_is_taken_over(run_here, tmp_path,
                                                  lapa_release):
    out = tmp_path / 'out'
    out.mkdir()
    (out / LOCK_FILE).write_text(f'{dead_pid()}\n')
    proc = run_here(['python', LAPA_TOOL, lapa_release, '-o', out])
    assert proc.returncode == 0, proc.stderr
    assert 'written: 3' in proc.stdout
    # Free again once the run ended.
    with open(out / LOCK_FILE, 'r+') as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)


@pytest.mark.parametrize('dataset', ['lapa', 'celebamask_hq'])
def test_resume_redoes_damaged_outputs(run_here, tmp_path, dataset,
                                       lapa_release, celeba_release):
    release = lapa_release if dataset == 'lapa' else celeba_release
    tool = LAPA_TOOL if dataset == 'lapa' else CELEBA_TOOL
    out = tmp_path / 'out'
    assert run_here(['python', tool, release, '-o', out]).returncode == 0
    complete = _hashes(out)
    labels = sorted((out / 'labels').iterdir())
    images = sorted((out / 'images').iterdir())
    truncated, emptied = labels[0], images[1]
    truncated.write_bytes(truncated.read_bytes()[:-20])
    emptied.write_bytes(b'')

    proc = run_here(['python', tool, release, '-o', out])
    assert proc.returncode == 0, proc.stderr
    assert ('skipped (already done): 1, rejected: 0, redone (damaged output '
            'of an earlier run): 2') in proc.stdout
    assert f'redone {truncated.stem}: {truncated}' in proc.stdout
    assert f'redone {emptied.stem}: {emptied}' in proc.stdout
    assert _hashes(out) == complete


def test_only_dead_processes_temp_files_are_removed(tmp_path, lapa_release):
    out = tmp_path / 'out'
    convert_lapa(lapa_release, str(out))
    writer = subprocess.Popen(
        [sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        dead = out / 'labels' / f'.x.png{TEMP_MARK}{dead_pid()}'
        alive = out / 'labels' / f'.y.png{TEMP_MARK}{writer.pid}'
        dead.write_bytes(b'half')
        alive.write_bytes(b'still being written')
        summary = convert_lapa(lapa_release, str(out))
    finally:
        writer.kill()
        writer.wait()
    assert len(summary.skipped) == 3
    assert not dead.exists()
    assert alive.read_bytes() == b'still being written'


def test_non_utf8_mapping_file_names_the_line(run_here, tmp_path,
                                              celeba_release):
    mapping = osp.join(celeba_release, MAPPING)
    with open(mapping, 'rb') as f:
        lines = f.read().splitlines(keepends=True)
    lines[2] = lines[2][:2] + b'\xff' + lines[2][2:]
    with open(mapping, 'wb') as f:
        f.write(b''.join(lines))
    out = tmp_path / 'out'
    proc = run_here(['python', CELEBA_TOOL, celeba_release, '-o', out])
    _assert_one_error_line(proc, f'{mapping}:3: byte 0xff at column 3',
                           'is not UTF-8')
    assert not out.exists()


def test_non_utf8_split_file_names_the_line(run_here, tmp_path):
    release = make_sample_release(
        'helen', str(tmp_path / 'release'), num_images=3, image_size=16)
    split_file = osp.join(release, 'testing.txt')
    with open(split_file, 'ab') as f:
        f.write(b'7 , caf\xe9\n')
    proc = run_here(['python', HELEN_TOOL, release, '-o', tmp_path / 'out'])
    _assert_one_error_line(proc, f'{split_file}:2: byte 0xe9 at column 8')


def test_output_folder_under_a_file(run_here, tmp_path, lapa_release):
    blocker = tmp_path / 'a_file'
    blocker.write_text('keep me')
    out = blocker / 'out'
    proc = run_here(['python', LAPA_TOOL, lapa_release, '-o', out])
    _assert_one_error_line(proc, out, 'cannot write the output folder',
                           'Not a directory')
    assert blocker.read_text() == 'keep me'


def test_output_folder_without_write_permission(run_here, tmp_path,
                                                lapa_release, monkeypatch):
    # Permission bits do not bind root (as in CI containers), so the
    # refusal the kernel would give is raised where the folder is opened.
    out = tmp_path / 'read_only'
    out.mkdir()
    real_open = os.open

    def no_permission(path, *args, **kwargs):
        if osp.dirname(str(path)) == str(out):
            raise PermissionError(errno.EACCES, 'Permission denied', path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, 'open', no_permission)
    proc = run_here(['python', LAPA_TOOL, lapa_release, '-o', out])
    _assert_one_error_line(proc, out, 'cannot write the output folder',
                           'Permission denied')
    assert not any(out.iterdir())


def test_folder_that_cannot_be_locked(run_here, tmp_path, lapa_release,
                                      monkeypatch):
    # Some network and FUSE file systems have no flock.
    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, 'No locks available')

    monkeypatch.setattr(fcntl, 'flock', no_locks)
    out = tmp_path / 'out'
    proc = run_here(['python', LAPA_TOOL, lapa_release, '-o', out])
    _assert_one_error_line(proc, out, 'cannot lock the output folder',
                           'No locks available')
    assert not (out / 'images').exists()


def test_full_disk_leaves_no_partial_file(run_here, tmp_path, lapa_release,
                                          monkeypatch):
    out, reference = tmp_path / 'out', tmp_path / 'reference'
    convert_lapa(lapa_release, str(reference))
    writes = []

    def full_disk_open(path, mode='r', *args, **kwargs):
        f = open(path, mode, *args, **kwargs)
        if 'w' in mode:
            writes.append(path)
        # Write 1 is the manifest, then label and image of each item: the
        # disk fills up on the second item's label, mid-write.
        if len(writes) == 4 and 'w' in mode:
            real_write = f.write

            def write(data):
                real_write(data[:len(data) // 2])
                raise OSError(errno.ENOSPC, 'No space left on device')

            f.write = write
        return f

    monkeypatch.setattr(common, 'open', full_disk_open, raising=False)
    proc = run_here(['python', LAPA_TOOL, lapa_release, '-o', out])
    _assert_one_error_line(proc, 'No space left on device', out / 'labels')
    assert not _temp_files(out)
    assert not (out / 'train.txt').exists()
    complete = _hashes(reference)
    written = _hashes(out)
    assert len(written) == 3  # the manifest and the first item
    for path, digest in written.items():
        assert complete[path] == digest, path  # no file is half-written

    monkeypatch.undo()
    proc = run_here(['python', LAPA_TOOL, lapa_release, '-o', out])
    assert proc.returncode == 0, proc.stderr
    assert _hashes(out) == complete


def _png_header_only(width, height):
    """A PNG that claims ``width`` x ``height`` with next to no data."""

    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data +
                struct.pack('>I', zlib.crc32(kind + data)))

    return (b'\x89PNG\r\n\x1a\n' + chunk(
        b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(b'\0' * 64)) + chunk(b'IEND', b''))


def test_release_folder_as_output_refuses(run_here, lapa_release):
    before = _hashes(lapa_release)
    proc = run_here(['python', LAPA_TOOL, lapa_release, '-o', lapa_release])
    _assert_one_error_line(proc, lapa_release, 'cannot be the release folder')
    assert _hashes(lapa_release) == before


# Pillow decodes and verifies a PNG that lacks just the IEND checksum (4
# bytes); 20 bytes into the image data it does notice.
@pytest.mark.parametrize('damage', ['decompression_bomb', 'cut_4', 'cut_20'])
def test_bad_release_png_is_rejected_by_name(run_here, tmp_path,
                                             lapa_release, damage):
    label_dir = osp.join(lapa_release, 'train', 'labels')
    label = osp.join(label_dir, sorted(os.listdir(label_dir))[0])
    name = osp.basename(label)[:-4]
    if damage == 'decompression_bomb':
        data, reason = _png_header_only(20000, 20000), 'too large to decode'
    else:
        with open(label, 'rb') as f:
            data = f.read()[:-int(damage[len('cut_'):])]
        reason = 'cannot decode image'
    with open(label, 'wb') as f:
        f.write(data)
    out = tmp_path / 'out'
    proc = run_here(['python', LAPA_TOOL, lapa_release, '-o', out])
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr, proc.stderr
    assert f'rejected {name}: {label}: {reason}' in proc.stdout
    assert 'written: 2, skipped (already done): 0, rejected: 1' in proc.stdout
    assert name not in (out / 'train.txt').read_text().split()
    assert not (out / 'labels' / f'{name}.png').exists()


def test_wrong_size_part_mask_is_blamed(run_here, tmp_path, celeba_release):
    # skin is read first, so comparing with the first mask would blame
    # every other part instead.
    skin = osp.join(celeba_release, 'CelebAMask-HQ-mask-anno', '0',
                    '00001_skin.png')
    cv2.imwrite(skin, np.full((8, 8), 255, np.uint8))
    others = len([
        n for n in os.listdir(osp.dirname(skin)) if n.startswith('00001_')
    ]) - 1
    proc = run_here(['python', CELEBA_TOOL, celeba_release, '-o',
                     tmp_path / 'out'])
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert (f'rejected 1: {skin}: size 8x8, expected 16x16 like the other '
            f'{others} part masks of image 1') in proc.stdout


def test_edge_maps_with_other_options_refuse(run_here, tmp_path,
                                             lapa_release):
    data_root = tmp_path / 'lapa'
    convert_lapa(lapa_release, str(data_root))
    proc = run_here(['python', EDGE_TOOL, data_root, '--mode', 'eagr'])
    assert proc.returncode == 0, proc.stderr
    before = _hashes(data_root / 'edges')
    proc = run_here(['python', EDGE_TOOL, data_root])
    _assert_one_error_line(proc, data_root / 'edges',
                           "mode='eagr' (now 'ehanet')", 'width=1 (now 3)')
    assert _hashes(data_root / 'edges') == before

    damaged = sorted((data_root / 'edges').glob('*.png'))[0]
    damaged.write_bytes(b'')
    proc = run_here(['python', EDGE_TOOL, data_root, '--mode', 'eagr'])
    assert proc.returncode == 0, proc.stderr
    assert f'redone {damaged.stem}: {damaged}: cannot decode' in proc.stdout
    assert _hashes(data_root / 'edges') == before


def test_nproc_must_be_positive(run_here, tmp_path, lapa_release):
    proc = run_here(['python', LAPA_TOOL, lapa_release, '-o',
                     tmp_path / 'out', '--nproc', '0'])
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert "argument --nproc: '0' is not a positive integer" in proc.stderr
    assert not (tmp_path / 'out').exists()


def test_library_refusal_is_a_conversion_error(tmp_path, lapa_release,
                                               celeba_release):
    out = str(tmp_path / 'out')
    convert_lapa(lapa_release, out)
    with pytest.raises(ConversionError, match='holds a lapa conversion'):
        convert_celebamask_hq(celeba_release, out)


def test_dataset_reads_png_images_from_config(tmp_path, sample_root):
    from mmseg.datasets import build_dataset
    data_root = tmp_path / 'lapa_png'
    source = sample_root('lapa')
    (data_root / 'images').mkdir(parents=True)
    os.symlink(osp.join(source, 'labels'), data_root / 'labels')
    for split in ('train', 'val', 'test'):
        os.symlink(osp.join(source, f'{split}.txt'),
                   data_root / f'{split}.txt')
    names = (data_root / 'train.txt').read_text().split()
    for name in os.listdir(osp.join(source, 'images')):
        image = cv2.imread(osp.join(source, 'images', name))
        cv2.imwrite(str(data_root / 'images' / f'{name[:-4]}.png'), image)
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
    dataset = build_dataset(
        dict(
            type='LaPaDataset',
            data_root=str(data_root),
            split='train.txt',
            img_suffix='.png',
            pipeline=pipeline))
    assert [info['filename'] for info in dataset.img_infos] == [
        f'{name}.png' for name in names
    ]
    sample = dataset[0]
    expected = cv2.imread(str(data_root / 'images' / f'{names[0]}.png'))
    np.testing.assert_array_equal(sample['img'], expected)
    assert sample['gt_semantic_seg'].shape == expected.shape[:2]
    # the default is unchanged
    default = build_dataset(
        dict(type='LaPaDataset', data_root=source, split='train.txt',
             pipeline=pipeline))
    assert default.img_infos[0]['filename'] == f'{names[0]}.jpg'
