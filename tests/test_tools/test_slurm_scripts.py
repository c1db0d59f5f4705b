"""slurm_train.sh / slurm_test.sh hand srun the right job (srun is faked)."""
import os
import shlex

import pytest

FAKE_SRUN = '#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "$SRUN_ARGS_FILE"\n'


@pytest.fixture
def fake_srun(tmp_path):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text(FAKE_SRUN)
    srun.chmod(0o755)
    return bin_dir, tmp_path / 'srun_args.txt'


@pytest.mark.parametrize('script, args, tool, extra', [
    ('slurm_train.sh', ['part', 'job', 'cfg.py', '--seed', '1'], 'train.py',
     ['cfg.py', '--launcher=slurm', '--seed', '1']),
    ('slurm_test.sh', ['part', 'job', 'cfg.py', 'ckpt.pth', '--eval', 'mF1'],
     'test.py', ['cfg.py', 'ckpt.pth', '--launcher=slurm', '--eval', 'mF1']),
])
def test_slurm_script_builds_the_srun_job(run_tool, fake_srun, script, args,
                                          tool, extra):
    bin_dir, args_file = fake_srun
    result = run_tool([f'./tools/{script}', *args],
                      PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
                      SRUN_ARGS_FILE=str(args_file), GPUS='16',
                      GPUS_PER_NODE='8')
    assert result.returncode == 0, result.stderr
    srun_args = args_file.read_text().split('\n')[:-1]
    assert srun_args[:2] == ['-p', 'part']
    for flag in ('--job-name=job', '--gres=gpu:8', '--ntasks=16',
                 '--ntasks-per-node=8', '--kill-on-bad-exit=1'):
        assert flag in srun_args, shlex.join(srun_args)
    python = srun_args.index('python')
    assert srun_args[python + 1] == '-u'
    assert srun_args[python + 2].endswith(f'tools/{tool}')
    assert srun_args[python + 3:] == extra
