import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from dead_process import dead_pid

from mmseg_face.datasets.converters import (ConversionError,
                                            convert_celebamask_hq,
                                            convert_helen, convert_lapa,
                                            generate_edge_maps)
from mmseg_face.datasets.converters import common
from mmseg_face.datasets.pipelines import label_to_edge
from mmseg_face.datasets.sample_faces import make_sample_release

MAPPING = 'CelebA-HQ-to-CelebA-mapping.txt'


class Killed(Exception):
    """Stands for the converter process being killed."""


def _read_split(root, split):
    with open(osp.join(root, f'{split}.txt')) as f:
        return f.read().split()


def _imread(path):
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)


def _all_files(root):
    """Every file under root, hidden temp files included."""
    return sorted(
        osp.relpath(osp.join(directory, name), root)
        for directory, _, names in os.walk(root) for name in names)


def _temp_files(root):
    return [path for path in _all_files(root) if common.TEMP_MARK in path]


def _write_part(root, idx, part, box, size=8):
    mask = np.zeros((size, size), np.uint8)
    top, left, bottom, right = box
    mask[top:bottom, left:right] = 255
    folder = osp.join(root, 'CelebAMask-HQ-mask-anno', str(idx // 2000))
    os.makedirs(folder, exist_ok=True)
    cv2.imwrite(osp.join(folder, f'{idx:05d}_{part}.png'), mask)


def _tiny_celeba_release(root, ids=(0, ), header=True, size=8):
    os.makedirs(osp.join(root, 'CelebA-HQ-img'), exist_ok=True)
    lines = ['idx orig_idx orig_file'] if header else []
    for idx in ids:
        cv2.imwrite(
            osp.join(root, 'CelebA-HQ-img', f'{idx}.jpg'),
            np.full((2 * size, 2 * size, 3), 128, np.uint8))
        lines.append(f'{idx} {idx} {idx + 1:06d}.jpg')
    with open(osp.join(root, MAPPING), 'w') as f:
        f.write('\n'.join(lines) + '\n')


@pytest.mark.parametrize('header', [True, False])
def test_celebamask_merge_follows_official_order(tmp_path, header):
    root, out = str(tmp_path / 'release'), str(tmp_path / 'out')
    _tiny_celeba_release(root, header=header)
    # Written in the opposite of the official order on purpose.
    _write_part(root, 0, 'neck', (4, 0, 8, 4))  # 17
    _write_part(root, 0, 'neck_l', (6, 2, 8, 8))  # 16, neck wins overlap
    _write_part(root, 0, 'l_eye', (0, 2, 2, 4))  # 4, wins over eye_g
    _write_part(root, 0, 'eye_g', (0, 0, 2, 8))  # 3
    summary = convert_celebamask_hq(root, out)
    assert summary.written == ['0'] and not summary.rejected
    label = _imread(osp.join(out, 'labels', '0.png'))
    expected = np.zeros((8, 8), np.uint8)
    expected[0:2, :] = 3
    expected[0:2, 2:4] = 4
    expected[6:8, 2:8] = 16
    expected[4:8, 0:4] = 17
    np.testing.assert_array_equal(label, expected)
    # images are resized to the label size by default
    assert _imread(osp.join(out, 'images', '0.jpg')).shape == (8, 8, 3)


def test_celebamask_split_thresholds(sample_root):
    data_root = sample_root('celebamask_hq')
    release = data_root + '_release'
    with open(osp.join(release, MAPPING)) as f:
        rows = [line.split() for line in f.read().splitlines()[1:]]
    orig = {int(idx): int(orig_idx) for idx, orig_idx, _ in rows}
    # the sample puts ids on both sides of 162771 and 182638
    assert (orig[0], orig[1], orig[2], orig[3]) == (162770, 162771, 182638,
                                                    182637)
    assert _read_split(data_root, 'train') == ['0', '4', '6', '7', '8', '9']
    assert _read_split(data_root, 'val') == ['1', '3']
    assert _read_split(data_root, 'test') == ['2', '5']


def test_celebamask_segnext_scheme_and_keep_size(tmp_path):
    release = make_sample_release(
        'celebamask_hq', str(tmp_path / 'release'), num_images=4,
        image_size=32, mask_size=16, start_index=27998)
    assert sorted(os.listdir(osp.join(release, 'CelebAMask-HQ-mask-anno'))
                  ) == ['13', '14']
    out = str(tmp_path / 'out')
    summary = convert_celebamask_hq(
        release, out, split_scheme='segnext', keep_image_size=True)
    assert len(summary.written) == 4
    assert _read_split(out, 'train') == ['27998', '27999']
    assert _read_split(out, 'val') == _read_split(out, 'test') == [
        '28000', '28001'
    ]
    assert _imread(osp.join(out, 'images', '28000.jpg')).shape[:2] == (32, 32)
    assert _imread(osp.join(out, 'labels', '28000.png')).shape == (16, 16)


def test_interrupted_run_resumes_without_partial_files(tmp_path, monkeypatch):
    release = make_sample_release(
        'celebamask_hq', str(tmp_path / 'release'), num_images=6,
        image_size=32, mask_size=16, seed=3)
    reference = str(tmp_path / 'reference')
    convert_celebamask_hq(release, reference, nproc=2)

    out = str(tmp_path / 'out')
    real_write = common.atomic_write_bytes
    calls = []
    killed_pid = dead_pid()

    def killed_on_fifth_write(path, data):
        calls.append(path)
        if len(calls) == 5:
            # What a kill mid-write leaves: a half-written temp file.
            directory, base = osp.split(path)
            with open(osp.join(directory,
                               f'.{base}{common.TEMP_MARK}{killed_pid}'),
                      'wb') as f:
                f.write(data[:len(data) // 2])
            raise Killed
        real_write(path, data)

    monkeypatch.setattr(common, 'atomic_write_bytes', killed_on_fifth_write)
    with pytest.raises(Killed):
        convert_celebamask_hq(release, out)
    monkeypatch.setattr(common, 'atomic_write_bytes', real_write)
    assert _temp_files(out) == [
        osp.join('labels', f'.2.png{common.TEMP_MARK}{killed_pid}')
    ]
    assert not osp.exists(osp.join(out, 'train.txt'))

    summary = convert_celebamask_hq(release, out)
    # items 0 and 1 were complete (4 writes), item 2 was cut mid-label
    assert summary.skipped == ['0', '1']
    assert summary.written == ['2', '3', '4', '5']
    assert not _temp_files(out)
    assert _all_files(out) == _all_files(reference)
    for path in _all_files(reference):
        with open(osp.join(out, path), 'rb') as a, open(
                osp.join(reference, path), 'rb') as b:
            assert a.read() == b.read(), path

    again = convert_celebamask_hq(release, out)
    assert len(again.skipped) == 6 and not again.written
    assert 'skipped (already done): 6' in again.format()


def test_celebamask_bad_inputs_are_reported(tmp_path):
    root, out = str(tmp_path / 'release'), str(tmp_path / 'out')
    _tiny_celeba_release(root, ids=(0, 1, 2000))
    _write_part(root, 0, 'skin', (0, 0, 8, 8))
    _write_part(root, 1, 'skin', (0, 0, 8, 8))
    _write_part(root, 1, 'nose', (0, 0, 8, 8))
    _write_part(root, 1, 'hair', (0, 0, 4, 4), size=4)
    with open(osp.join(root, 'CelebA-HQ-img', '0.jpg'), 'r+b') as f:
        f.truncate(200)  # corrupt JPEG
    summary = convert_celebamask_hq(root, out)
    reasons = {item.name: item.reason for item in summary.rejected}
    assert set(reasons) == {'0', '1', '2000'}
    assert 'CelebA-HQ-img/0.jpg: cannot decode image' in reasons['0']
    assert ('00001_hair.png: size 4x4, expected 8x8 like the other 2 part '
            'masks of image 1') in reasons['1']
    assert (osp.join('CelebAMask-HQ-mask-anno', '1') +
            ': missing part folder for image 2000') in reasons['2000']
    assert not os.listdir(osp.join(out, 'labels'))
    assert all(not _read_split(out, s) for s in ('train', 'val', 'test'))
    assert 'rejected 2000: ' in summary.format()


def test_celebamask_malformed_mapping_line(tmp_path):
    root = str(tmp_path / 'release')
    _tiny_celeba_release(root, ids=(0, 1))
    with open(osp.join(root, MAPPING), 'a') as f:
        f.write('2 abc 000003.jpg\n')
    with pytest.raises(ConversionError,
                       match=MAPPING + r':4: malformed line'):
        convert_celebamask_hq(root, str(tmp_path / 'out'))


def _tiny_helen_release(root, soft_masks):
    name = '1_1'
    os.makedirs(osp.join(root, 'images'))
    os.makedirs(osp.join(root, 'labels', name))
    height, width = soft_masks[0].shape
    cv2.imwrite(
        osp.join(root, 'images', f'{name}.jpg'),
        np.zeros((height, width, 3), np.uint8))
    for k, mask in enumerate(soft_masks):
        cv2.imwrite(
            osp.join(root, 'labels', name, f'{name}_lbl{k:02d}.png'), mask)
    for file_name, names in (('exemplars.txt', [name]), ('tuning.txt', []),
                             ('testing.txt', [])):
        with open(osp.join(root, file_name), 'w') as f:
            f.writelines(f'{i} , {n}\n' for i, n in enumerate(names, 1))


def test_helen_label_is_argmax_of_soft_masks(tmp_path):
    soft = [np.zeros((2, 3), np.uint8) for _ in range(11)]
    soft[0][:] = 100  # background everywhere at 100
    soft[1][0, 0] = 200  # skin wins (0, 0)
    soft[4][0, 1] = 101  # left eye just beats background
    soft[10][1, 2] = 255
    soft[9][1, 2] = 254  # hair beats lower lip by one
    root, out = str(tmp_path / 'release'), str(tmp_path / 'out')
    _tiny_helen_release(root, soft)
    summary = convert_helen(root, out)
    assert summary.written == ['1_1']
    assert summary.split_sizes == dict(train=1, val=0, test=0)
    np.testing.assert_array_equal(
        _imread(osp.join(out, 'labels', '1_1.png')),
        [[1, 4, 0], [0, 0, 10]])


def test_helen_sample_release_and_bad_inputs(tmp_path):
    release = make_sample_release(
        'helen', str(tmp_path / 'release'), num_images=3, image_size=24)
    with open(osp.join(release, 'exemplars.txt')) as f:
        names = [line.split(' , ')[1].strip() for line in f]
    victim = names[0]
    soft = osp.join(release, 'labels', victim, f'{victim}_lbl03.png')
    cv2.imwrite(soft, np.zeros((20, 24), np.uint8))
    summary = convert_helen(release, str(tmp_path / 'out'))
    assert [item.name for item in summary.rejected] == [victim]
    assert f'{victim}_lbl03.png: size 24x20 differs from 24x24' in (
        summary.rejected[0].reason)
    assert summary.split_sizes == dict(train=0, val=1, test=1)

    os.remove(soft)
    with pytest.raises(ConversionError,
                       match='was converted from another release'):
        convert_helen(release, str(tmp_path / 'out'))
    summary = convert_helen(release, str(tmp_path / 'out'), overwrite=True)
    assert f'{victim}_lbl03.png: missing soft mask' in (
        summary.rejected[0].reason)
    assert len(summary.written) == 2 and not summary.skipped

    with open(osp.join(release, 'tuning.txt'), 'a') as f:
        f.write('2 ; broken\n')
    with pytest.raises(ConversionError, match=r'tuning.txt:2: malformed'):
        convert_helen(release, str(tmp_path / 'out'))


def test_lapa_pairs_are_checked_and_copied(tmp_path):
    release = make_sample_release(
        'lapa', str(tmp_path / 'release'), num_images=7, image_size=24)
    train = osp.join(release, 'train')
    names = sorted(n[:-4] for n in os.listdir(osp.join(train, 'images')))
    assert len(names) == 3
    assert len(open(osp.join(train, 'landmarks',
                             f'{names[0]}.txt')).read().split('\n')) == 108
    out_of_range = _imread(osp.join(train, 'labels', f'{names[0]}.png'))
    out_of_range[0, 0] = 11
    out_of_range[0, 1] = 255  # ignore value is allowed
    cv2.imwrite(osp.join(train, 'labels', f'{names[0]}.png'), out_of_range)
    cv2.imwrite(
        osp.join(train, 'labels', f'{names[1]}.png'),
        np.zeros((24, 20), np.uint8))
    with_ignore = _imread(osp.join(train, 'labels', f'{names[2]}.png'))
    with_ignore[0, 0] = 255
    cv2.imwrite(osp.join(train, 'labels', f'{names[2]}.png'), with_ignore)
    cv2.imwrite(
        osp.join(train, 'labels', 'orphan.png'), np.zeros((24, 24),
                                                          np.uint8))
    val_names = os.listdir(osp.join(release, 'val', 'labels'))
    os.remove(osp.join(release, 'val', 'labels', val_names[0]))

    out = str(tmp_path / 'out')
    summary = convert_lapa(release, out)
    reasons = {item.name: item.reason for item in summary.rejected}
    assert 'label values [11] outside 0..10' in reasons[names[0]]
    assert f'{names[0]}.png' in reasons[names[0]]
    assert 'size 20x24 differs from 24x24' in reasons[names[1]]
    assert 'orphan.png: label without an image' in reasons['orphan']
    missing = val_names[0][:-4]
    assert f'{val_names[0]}: missing label' in reasons[missing]
    assert summary.split_sizes == dict(train=1, val=1, test=2)
    assert _read_split(out, 'train') == [names[2]]
    with open(osp.join(train, 'labels', f'{names[2]}.png'), 'rb') as a, open(
            osp.join(out, 'labels', f'{names[2]}.png'), 'rb') as b:
        assert a.read() == b.read()


def test_generate_edge_maps(sample_root, tmp_path):
    data_root = str(tmp_path / 'helen')
    shutil.copytree(sample_root('helen'), data_root)
    summary = generate_edge_maps(data_root, mode='eagr')
    assert len(summary.written) == 10
    name = summary.written[0]
    label = _imread(osp.join(data_root, 'labels', f'{name}.png'))
    np.testing.assert_array_equal(
        _imread(osp.join(data_root, 'edges', f'{name}.png')),
        label_to_edge(label, 'eagr'))
    assert len(generate_edge_maps(data_root, mode='eagr').skipped) == 10


def test_converter_cli(tmp_path, run_tool):
    release = make_sample_release(
        'lapa', str(tmp_path / 'release'), num_images=3, image_size=16)
    out = str(tmp_path / 'out')
    proc = run_tool(['python', 'tools/convert_datasets/lapa.py', release, '-o',
                     out, '--nproc', '1'])
    assert proc.returncode == 0, proc.stderr
    assert 'written: 3, skipped (already done): 0, rejected: 0' in proc.stdout
    assert 'splits: train 1, val 1, test 1' in proc.stdout
