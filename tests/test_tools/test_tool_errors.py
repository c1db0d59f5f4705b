"""Bad input to the tools ends with one clear error line, not a traceback."""
import pytest
import torch

from tiny_segmentation import make_tiny_dataset, write_tiny_config
from tool_output import assert_one_error_line as _assert_one_error_line


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp('errors')
    make_tiny_dataset(str(root / 'data'), num_train=2, num_val=1)
    config = write_tiny_config(str(root / 'tiny.py'), str(root / 'data'))
    return root, config


def test_missing_config(run_tool):
    for tool in ('tools/train.py', 'tools/get_flops.py'):
        result = run_tool(['python', tool, 'local_configs/nope.py'])
        _assert_one_error_line(result, 'local_configs/nope.py')
    result = run_tool(['./tools/dist_train.sh', 'local_configs/nope.py', '2'])
    _assert_one_error_line(result, 'config file not found')


def test_unknown_model_type(run_tool, tiny):
    root, config = tiny
    result = run_tool(['python', 'tools/train.py', config, '--work-dir',
                       str(root / 'work'), '--cfg-options',
                       'model.backbone.type=NoSuchBackbone'])
    _assert_one_error_line(result, 'NoSuchBackbone is not in the models registry')


def test_dataset_path_that_does_not_exist(run_tool, tiny):
    root, config = tiny
    missing = str(root / 'missing_data')
    result = run_tool(['python', 'tools/train.py', config, '--work-dir',
                       str(root / 'work'), '--cfg-options',
                       f'data.train.data_root={missing}'])
    _assert_one_error_line(result, missing)


def test_checkpoint_failing_weights_only(run_tool, tiny):
    root, config = tiny
    checkpoint = str(root / 'unsafe.pth')
    # A pickled callable stands for arbitrary code in an untrusted file.
    torch.save(dict(state_dict={}, meta=dict(hook=print)), checkpoint)
    result = run_tool(['python', 'tools/test.py', config, checkpoint,
                       '--eval', 'mIoU'])
    _assert_one_error_line(result, checkpoint, 'refused by weights-only')


@pytest.mark.parametrize('command, fragment', [
    (['tools/convert_datasets/celebamask_hq.py', '/no/release', '-o', '{out}'],
     '/no/release'),
    (['tools/convert_datasets/helen.py', '/no/release', '-o', '{out}'],
     '/no/release/exemplars.txt'),
    (['tools/convert_datasets/lapa.py', '/no/release', '-o', '{out}'],
     '/no/release'),
    (['tools/generate_edges.py', '/no/data'], '/no/data/labels'),
    (['tools/parse_faces.py', 'nope.py', 'nope.pth', '/no/img', '--out',
      '{out}'], 'nope.py'),
    (['tools/pytorch2onnx.py', 'nope.py', '--output-file', '{out}/m.onnx'],
     'nope.py'),
])
def test_other_tools_name_missing_input(run_tool, tmp_path, command, fragment):
    args = [arg.format(out=tmp_path) for arg in command]
    _assert_one_error_line(run_tool(['python', *args]), fragment)
