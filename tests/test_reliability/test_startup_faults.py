"""Fault injection at start-up: train/test input, configs and launchers.

Every bad input must end the tool before any work with exit status 1, one
``error:`` line naming the file or option, no traceback and no work dir.
train.py/test.py run in this process (their checks run before anything is
built); the launchers and the runs that must work run as subprocesses.
"""
import gc
import logging
import os
import os.path as osp
import signal
import socket
import subprocess
import sys
import time

import pytest
from mmcv import Config
from mmcv.runner import save_checkpoint
from mmcv.utils.logging import logger_initialized

from mmseg_face.utils.complexity import build_segmentor_from_config
from mmseg_face.utils.launch import run_stock_tool
from small_configs import failure_message
from tiny_segmentation import REPO_ROOT, make_tiny_dataset, write_tiny_config

NUM_TRAIN, NUM_VAL = 4, 2


@pytest.fixture
def tiny(tmp_path):
    """A tiny dataset (train 0-3, val 4-5), its config and a work dir."""
    data = tmp_path / 'data'
    make_tiny_dataset(str(data), num_train=NUM_TRAIN, num_val=NUM_VAL)
    config = write_tiny_config(str(tmp_path / 'tiny.py'), str(data))
    return dict(data=data, config=config, work_dir=tmp_path / 'work',
                root=tmp_path)


@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory):
    """Untrained weights of the tiny config (the data root is irrelevant)."""
    root = tmp_path_factory.mktemp('startup_ckpt')
    config = write_tiny_config(str(root / 'tiny.py'), str(root))
    model, _ = build_segmentor_from_config(Config.fromfile(config))
    path = str(root / 'tiny.pth')
    save_checkpoint(model, path)
    return path


@pytest.fixture
def in_process(monkeypatch, capsys, tmp_path):
    """Run tools/train.py or test.py here: (exit status, stdout, stderr).

    It runs in an empty working directory, which a failed run must leave
    empty.
    """
    cwd = tmp_path / 'cwd'
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, 'argv', list(sys.argv))
    # mmseg's logger keeps the stderr it first saw: give it this test's.
    monkeypatch.setattr(logging.getLogger('mmseg'), 'handlers', [])
    monkeypatch.delitem(logger_initialized, 'mmseg', raising=False)
    monkeypatch.delenv('MMSEG_FACE_DEBUG', raising=False)
    for name in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(name, raising=False)

    def run(tool, *args):
        try:
            run_stock_tool(tool, [str(arg) for arg in args])
            status = 0
        except SystemExit as exit_info:
            status = exit_info.code
        out, err = capsys.readouterr()
        if status:
            assert os.listdir(cwd) == []
        return status, out, err

    return run


def assert_one_error_line(status, err, *fragments):
    assert status == 1, err
    assert 'Traceback' not in err, err
    errors = [line for line in err.splitlines() if 'error:' in line]
    assert len(errors) == 1, err
    for fragment in fragments:
        assert str(fragment) in errors[0], errors[0]
    return errors[0]


def train_fails(in_process, tiny, *args):
    """Run train.py on the tiny config; assert it stopped before any work."""
    status, out, err = in_process('train', tiny['config'], '--work-dir',
                                  tiny['work_dir'], *args)
    assert not tiny['work_dir'].exists()
    return status, err


# --- item 3: failures found late ----------------------------------------


def test_train_refuses_unknown_evaluation_metric(in_process, tiny):
    status, err = train_fails(in_process, tiny, '--cfg-options',
                              'evaluation.metric=[mIoU,mAP]')
    line = assert_one_error_line(status, err, 'evaluation.metric', "'mAP'")
    assert 'mIoU, mDice, mFscore' in line
    # --no-validate runs no evaluation, so the metric does not matter.
    status, out, err = in_process('train', tiny['config'], '--work-dir',
                                  tiny['work_dir'], '--no-validate',
                                  '--check-only', '--cfg-options',
                                  'evaluation.metric=mAP')
    assert status == 0, err
    assert f'{NUM_TRAIN} train images with labels' in out
    assert 'val images' not in out


@pytest.mark.parametrize('options, fragments', [
    (['evaluation.save_best=mDice'],
     ["evaluation.save_best='mDice' is not among the results",
      "evaluation.metric='mIoU'", 'aAcc, mIoU, mAcc, IoU.background']),
    (['evaluation.save_best=IoU.disc'],
     ["evaluation.save_best='IoU.disc'", "evaluation.rule='greater'"]),
])
def test_train_refuses_save_best_it_cannot_use(in_process, tiny, options,
                                               fragments):
    status, err = train_fails(in_process, tiny, '--cfg-options', *options)
    assert_one_error_line(status, err, *fragments)
    status, out, err = in_process('train', tiny['config'], '--check-only',
                                  '--cfg-options', *options,
                                  'evaluation.metric=[mIoU,mDice]',
                                  'evaluation.rule=greater')
    assert status == 0, err


def test_test_refuses_unknown_eval_metric_before_inference(
        in_process, tiny, tiny_checkpoint):
    status, out, err = in_process('test', tiny['config'], tiny_checkpoint,
                                  '--eval', 'mIoU', 'mIoUU')
    assert_one_error_line(status, err, '--eval', "'mIoUU'")
    assert 'per class results' not in out + err  # nothing was inferred


@pytest.mark.parametrize('head, num_classes', [
    ('decode_head', 5),
    ('decode_head', 2),
    ('auxiliary_head', 4),
])
def test_num_classes_must_match_the_dataset(in_process, tiny, head,
                                            num_classes):
    config = tiny['root'] / 'with_head.py'
    config.write_text(
        f"_base_ = ['{tiny['config']}']\n"
        'model = dict(auxiliary_head=dict(\n'
        "    type='FCNHead', in_channels=32, in_index=2, channels=8,\n"
        '    num_convs=1, concat_input=False, num_classes=3,\n'
        "    norm_cfg=dict(type='SyncBN', requires_grad=True)))\n")
    status, out, err = in_process(
        'train', config, '--work-dir', tiny['work_dir'], '--cfg-options',
        f'model.{head}.num_classes={num_classes}')
    line = assert_one_error_line(status, err,
                                 f'model.{head}.num_classes={num_classes}',
                                 'has 3 classes')
    assert 'data.train' in line
    assert not tiny['work_dir'].exists()


def test_split_naming_missing_images(in_process, tiny):
    for index in range(NUM_TRAIN):
        os.remove(tiny['data'] / 'images' / f'{index}.jpg')
    for index in (0, 1):
        os.remove(tiny['data'] / 'labels' / f'{index}.png')
    status, err = train_fails(in_process, tiny)
    line = assert_one_error_line(status, err, 'data.train',
                                 f'6 of the {2 * NUM_TRAIN} files',
                                 tiny['data'] / 'train.txt')
    # The first five missing files, in split order, image before label.
    shown = [tiny['data'] / sub / name for sub, name in (
        ('images', '0.jpg'), ('labels', '0.png'), ('images', '1.jpg'),
        ('labels', '1.png'), ('images', '2.jpg'))]
    assert line.split('missing: ')[1] == \
        ', '.join(str(path) for path in shown) + ', ...'


def test_missing_validation_label(in_process, tiny):
    os.remove(tiny['data'] / 'labels' / f'{NUM_TRAIN + 1}.png')
    status, err = train_fails(in_process, tiny)
    assert_one_error_line(status, err, 'data.val', '1 of the 4 files',
                          tiny['data'] / 'labels' / f'{NUM_TRAIN + 1}.png')


def test_test_split_with_missing_image(in_process, tiny, tiny_checkpoint):
    os.remove(tiny['data'] / 'images' / f'{NUM_TRAIN}.jpg')
    status, out, err = in_process('test', tiny['config'], tiny_checkpoint,
                                  '--eval', 'mIoU')
    assert_one_error_line(status, err, 'data.test',
                          tiny['data'] / 'images' / f'{NUM_TRAIN}.jpg')


def test_empty_split(in_process, tiny):
    (tiny['data'] / 'train.txt').write_text('')
    status, err = train_fails(in_process, tiny)
    assert_one_error_line(status, err, 'data.train',
                          f"{tiny['data'] / 'train.txt'} lists no images")


def test_split_file_with_non_utf8_byte(in_process, tiny):
    (tiny['data'] / 'train.txt').write_bytes(b'0\n1\xe9\n2\n')
    status, err = train_fails(in_process, tiny)
    assert_one_error_line(status, err, 'data.train.split',
                          f"{tiny['data'] / 'train.txt'}, line 2",
                          '0xe9')


# --- item 4: worker settings --------------------------------------------


def test_zero_workers_train_and_validate(run_tool, tiny):
    result = run_tool([
        'python', 'tools/train.py', tiny['config'], '--work-dir',
        tiny['work_dir'], '--cfg-options', 'data.workers_per_gpu=0',
        'runner.max_iters=1', 'evaluation.interval=1',
        'checkpoint_config.interval=1'
    ], timeout=300)
    assert result.returncode == 0, failure_message(result)
    assert (tiny['work_dir'] / 'iter_1.pth').is_file()
    assert 'mIoU' in result.stdout + result.stderr  # validation ran too


@pytest.mark.parametrize('option, value', [
    ('data.workers_per_gpu', '-1'),
    ('data.samples_per_gpu', '0'),
    ('data.workers_per_gpu', '1.5'),
])
def test_bad_loader_settings(in_process, tiny, option, value):
    status, err = train_fails(in_process, tiny, '--cfg-options',
                              f'{option}={value}')
    assert_one_error_line(status, err, f'{option}={value}')


def test_train_split_smaller_than_one_batch(in_process, tiny, monkeypatch):
    monkeypatch.setenv('WORLD_SIZE', '2')  # as dist_train.sh sets it
    status, err = train_fails(in_process, tiny, '--cfg-options',
                              'data.samples_per_gpu=3')
    assert_one_error_line(status, err, f'data.train has {NUM_TRAIN} samples',
                          '2 per process of 2',
                          'one batch of data.samples_per_gpu=3')
    # Repeated twice, the split fills a batch of 3 in each process.
    config = tiny['root'] / 'repeated.py'
    config.write_text(
        f"_base_ = ['{tiny['config']}']\n"
        "data = dict(train=dict(_delete_=True, type='RepeatDataset', "
        "times=2, dataset={{_base_.data.train}}))\n")
    status, out, err = in_process('train', config, '--check-only',
                                  '--cfg-options', 'data.samples_per_gpu=3')
    assert status == 0, err


def test_launcher_pytorch_without_torchrun(in_process, tiny):
    status, err = train_fails(in_process, tiny, '--launcher', 'pytorch')
    assert_one_error_line(status, err, '--launcher pytorch', 'RANK')


# --- item 5: configs and options ----------------------------------------


@pytest.fixture
def unraisable(monkeypatch):
    """Errors Python could only print ("Exception ignored in ...")."""
    seen = []
    monkeypatch.setattr(sys, 'unraisablehook', seen.append)
    yield seen
    gc.collect()


def test_config_syntax_error(in_process, tiny, unraisable):
    config = tiny['root'] / 'broken.py'
    config.write_text("_base_ = ['tiny.py']\nmodel = dict(type='X',,)\n")
    status, out, err = in_process('train', config, '--work-dir',
                                  tiny['work_dir'])
    assert_one_error_line(status, err, str(config), 'line 2')
    assert not tiny['work_dir'].exists()
    gc.collect()
    assert not unraisable  # mmcv's temporary copy, freed quietly


def test_config_that_fails_to_run(in_process, tiny, unraisable):
    config = tiny['root'] / 'undefined.py'
    config.write_text("_base_ = ['tiny.py']\nmodel = dict(depth=depth)\n")
    status, out, err = in_process('test', config, 'none.pth', '--eval',
                                  'mIoU')
    assert_one_error_line(status, err, str(config), 'NameError',
                          "'depth' is not defined")
    gc.collect()
    assert not unraisable


@pytest.mark.parametrize('option, fragments', [
    ('runner.max_iter=2', ["no key 'max_iter'", 'runner.max_iters?']),
    ('model.decode_head.num_clases=3',
     ['model.decode_head.num_classes?']),
    ('modell.pretrained=None', ['did you mean model?']),
    ('data.train.pipeline.20.img_scale=(8,8)',
     ['data.train.pipeline is a list of 8', "'20'"]),
    ('model.backbone.depth.value=18', ['model.backbone.depth is 18']),
])
def test_misspelt_cfg_options_key(in_process, tiny, option, fragments):
    status, err = train_fails(in_process, tiny, '--cfg-options', option)
    assert_one_error_line(status, err, f'--cfg-options {option.split("=")[0]}',
                          *fragments)


def test_new_cfg_options_key_is_kept(in_process, tiny):
    status, out, err = in_process('train', tiny['config'], '--check-only',
                                  '--cfg-options', 'evaluation.save_best=mIoU')
    assert status == 0, err
    assert 'checks passed' in out


# --- CLI arguments of train.py and test.py -------------------------------


def test_work_dir_below_a_file(in_process, tiny):
    blocker = tiny['root'] / 'a_file'
    blocker.write_text('')
    status, out, err = in_process('train', tiny['config'], '--work-dir',
                                  blocker / 'work')
    assert_one_error_line(status, err, '--work-dir', f'{blocker} is a file')
    assert blocker.read_text() == ''


def test_resume_from_missing_checkpoint(in_process, tiny):
    status, err = train_fails(in_process, tiny, '--resume-from',
                              tiny['root'] / 'iter_9.pth')
    assert_one_error_line(status, err, '--resume-from',
                          tiny['root'] / 'iter_9.pth')


@pytest.mark.parametrize('args, fragments', [
    ([], ['nothing to do', '--eval']),
    (['--eval', 'mIoU', '--format-only'], ['--eval and --format-only']),
    (['--out', 'results.json'], ['--out results.json', '.pkl']),
    (['--show-dir', 'shown', '--opacity', '1.5'], ['--opacity 1.5']),
    (['--eval', 'mIoU', '--aug-test', '--cfg-options',
      'data.test.pipeline.1.type=Resize'],
     ['--aug-test', 'data.test.pipeline.1', 'not Resize']),
])
def test_bad_test_arguments(in_process, tiny, tiny_checkpoint, args,
                            fragments):
    status, out, err = in_process('test', tiny['config'], tiny_checkpoint,
                                  *args)
    assert_one_error_line(status, err, *fragments)


def test_bench_vs_original_needs_mirror(monkeypatch, capsys):
    monkeypatch.syspath_prepend(osp.join(REPO_ROOT, 'bench'))
    import bench_vs_original
    monkeypatch.setattr(sys, 'argv', ['bench_vs_original.py'])
    with pytest.raises(SystemExit) as exit_info:
        bench_vs_original.parse_args()
    assert exit_info.value.code == 2
    assert 'required: --mirror' in capsys.readouterr().err


# --- item 6 and 7: launchers --------------------------------------------


def test_dist_train_busy_port(tool_env, tiny):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        sock.listen()
        port = sock.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run(
            ['./tools/dist_train.sh', tiny['config'], '2', '--work-dir',
             str(tiny['work_dir'])], cwd=REPO_ROOT,
            env=dict(tool_env, PORT=str(port)), capture_output=True,
            text=True, timeout=60)
    assert time.monotonic() - started < 10  # before torchrun's timeout
    assert_one_error_line(result.returncode, result.stderr,
                          f'port {port} on 127.0.0.1 is in use', 'PORT=')
    assert not tiny['work_dir'].exists()


@pytest.mark.parametrize('script, args, fragment', [
    ('dist_train.sh', ['{config}', 'two'], "GPUS must be a positive"),
    ('dist_test.sh', ['{config}', '{config}', '0'], "got '0'"),
])
def test_dist_scripts_bad_process_count(run_tool, tiny, script, args,
                                        fragment):
    args = [arg.format(config=tiny['config']) for arg in args]
    result = run_tool([f'./tools/{script}', *args])
    assert_one_error_line(result.returncode, result.stderr, fragment)


def test_dist_train_checks_before_launching(run_tool, tiny):
    os.remove(tiny['data'] / 'images' / '2.jpg')
    result = run_tool(['./tools/dist_train.sh', tiny['config'], '2',
                       '--work-dir', tiny['work_dir']])
    # One line from the checks, not torchrun's report of two failed ranks.
    assert_one_error_line(result.returncode, result.stderr, 'data.train',
                          tiny['data'] / 'images' / '2.jpg')
    assert 'torchrun' not in result.stderr
    assert not tiny['work_dir'].exists()


def _processes_mentioning(text):
    """Pids of live processes whose command line contains ``text``."""
    pids = []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                if text.encode() in f.read():
                    pids.append(int(pid))
        except OSError:  # ended meanwhile
            pass
    return pids


def test_killing_dist_train_stops_its_workers(tool_env, tiny):
    env = dict(tool_env, PORT=str(_free_port()))
    script = subprocess.Popen(
        ['./tools/dist_train.sh', tiny['config'], '2', '--work-dir',
         str(tiny['work_dir']), '--cfg-options', 'runner.max_iters=100000',
         'evaluation.interval=100000', 'checkpoint_config.interval=100000'],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not _training_logged(tiny['work_dir']):
            assert script.poll() is None, 'dist_train.sh ended early'
            assert time.monotonic() < deadline, 'training never started'
            time.sleep(1)
        workers = [pid for pid in _processes_mentioning(tiny['config'])
                   if pid != script.pid]
        assert len(workers) >= 3  # torchrun and two ranks
        script.send_signal(signal.SIGTERM)
        assert script.wait(timeout=60) != 0
        deadline = time.monotonic() + 30  # data-loader children poll
        while _processes_mentioning(tiny['config']):
            assert time.monotonic() < deadline, \
                _processes_mentioning(tiny['config'])
            time.sleep(0.5)
    finally:
        for pid in _processes_mentioning(tiny['config']):
            os.kill(pid, signal.SIGKILL)


def _training_logged(work_dir):
    logs = [name for name in os.listdir(work_dir)
            if name.endswith('.log.json')] if work_dir.exists() else []
    return any('"mode": "train"' in (work_dir / name).read_text()
               for name in logs)


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_dist_test_leaves_no_temporary_folder(tool_env, tiny,
                                              tiny_checkpoint):
    cwd, scratch = tiny['root'] / 'cwd', tiny['root'] / 'scratch'
    cwd.mkdir()
    scratch.mkdir()
    env = dict(tool_env, PORT=str(_free_port()), TMPDIR=str(scratch))
    result = subprocess.run(
        [osp.join(REPO_ROOT, 'tools', 'dist_test.sh'), tiny['config'],
         tiny_checkpoint, '1', '--eval', 'mIoU'],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, failure_message(result)
    assert 'mIoU' in result.stdout
    # No .dist_test/; work_dirs/ holds the eval JSON mmseg 0.30 writes.
    assert os.listdir(cwd) == ['work_dirs']
    assert not [name for name in os.listdir(scratch)
                if name.startswith('dist_test.')]
