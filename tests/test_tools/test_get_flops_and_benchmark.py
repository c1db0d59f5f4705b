"""tools/get_flops.py and tools/benchmark.py on CPU."""
import re

import pytest

from mmseg_face.utils.benchmark import format_table, time_inference
from mmseg_face.utils.complexity import (build_segmentor_from_config,
                                         complexity, count_parameters)
from tiny_segmentation import make_tiny_dataset, write_tiny_config


@pytest.fixture(scope='module')
def config(tmp_path_factory):
    root = tmp_path_factory.mktemp('flops')
    make_tiny_dataset(str(root / 'data'), num_train=1, num_val=1)
    return write_tiny_config(str(root / 'tiny.py'), str(root / 'data'))


def test_get_flops_prints_three_labelled_figures(run_tool, config):
    result = run_tool(['python', 'tools/get_flops.py', config, '--shape',
                       '64', '48'])
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    model, _ = build_segmentor_from_config(config)
    printed = int(re.search(r'Parameters: ([\d,]+)', out).group(1).replace(
        ',', ''))
    assert printed == count_parameters(model)
    assert '(1, 3, 64, 48)' in out
    gflops = float(re.search(r'FLOPs \(mmcv counter.*: ([\d.]+) GFLOPs',
                             out).group(1))
    gmacs = float(re.search(r'MACs \(torchprofile.*: ([\d.]+) GMACs',
                            out).group(1))
    assert gflops > 0 and gmacs > 0


def test_macs_match_a_hand_count(config):
    model, _ = build_segmentor_from_config(config)
    at_32 = complexity(model, (32, 32))
    at_64 = complexity(model, (64, 64))
    # A fully convolutional net: 4x the pixels costs 4x the MACs.
    assert at_64['torchprofile_macs'] == pytest.approx(
        4 * at_32['torchprofile_macs'], rel=0.02)
    # The classifier alone: a 1x1 conv 16 -> 3 on a 1/8 map of 64x64.
    head = model.decode_head.conv_seg
    assert head.in_channels * head.out_channels * 8 * 8 <= \
        at_64['torchprofile_macs']


def test_time_inference_throughput_follows_median(config):
    model, _ = build_segmentor_from_config(config)
    timing = time_inference(model, (32, 32), batch_size=2, warmup=1,
                            repeats=3)
    assert len(timing['times_ms']) == 3
    assert timing['min_ms'] <= timing['median_ms'] <= timing['max_ms']
    assert timing['images_per_s'] == pytest.approx(2e3 / timing['median_ms'])
    with pytest.raises(ValueError, match='repeats >= 1'):
        time_inference(model, (32, 32), 1, repeats=0)


def test_benchmark_tool_table(run_tool, config):
    result = run_tool(['python', 'tools/benchmark.py', config, '--shape', '32',
                       '32', '--shape', '48', '32', '--batch-size', '1', '2',
                       '--warmup', '1', '--repeats', '2'])
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines()
            if re.match(r'\s+\d+x\d+\s+\d+\s', line)]
    assert [row.split()[:2] for row in rows] == [
        ['32x32', '1'], ['32x32', '2'], ['48x32', '1'], ['48x32', '2']]
    assert format_table([]).count('\n') == 1
    assert '(as built)' in result.stdout


def test_benchmark_tool_optimised_model(run_tool, config):
    result = run_tool(['python', 'tools/benchmark.py', config, '--shape', '32',
                       '32', '--warmup', '0', '--repeats', '1', '--optimize'])
    assert result.returncode == 0, result.stderr[-3000:]
    assert '(optimised for inference)' in result.stdout
    assert re.search(r'\n\s+32x32\s+1\s', result.stdout)
