"""`import mmseg_face` registers into mmseg's registries without shadowing."""
import glob
import os.path as osp
import textwrap

from mmcv import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

SNAPSHOT = textwrap.dedent('''
    import mmcls.models, mmseg.datasets, mmseg.models
    from mmcls.models.builder import MODELS as CLS_MODELS
    from mmseg.datasets.builder import DATASETS, PIPELINES
    from mmseg.models.builder import MODELS
    registries = dict(models=MODELS, datasets=DATASETS, pipelines=PIPELINES,
                      cls_models=CLS_MODELS)
    def snapshot():
        return {kind: dict(reg.module_dict) for kind, reg in registries.items()}
    stock = snapshot()
    import mmseg_face
    ours = snapshot()
    for kind, entries in stock.items():
        for name, cls in entries.items():
            assert ours[kind][name] is cls, (kind, name)
    added = {kind: sorted(set(ours[kind]) - set(stock[kind])) for kind in ours}
    for kind, names in added.items():
        for name in names:
            assert ours[kind][name].__module__.startswith('mmseg_face'), name
    print('added', sum(len(v) for v in added.values()))
''')


def test_registration_never_shadows_stock_names(run_tool):
    result = run_tool(['python', '-c', SNAPSHOT])
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.split('added')[1]) > 0


def test_every_config_imports_mmseg_face():
    configs = glob.glob(osp.join(REPO_ROOT, 'local_configs', '**', '*.py'),
                        recursive=True)
    leaves = [c for c in configs if '_base_' not in c]
    for path in leaves + [osp.join(REPO_ROOT, 'local_configs', '_base_',
                                   'default_runtime.py')]:
        cfg = Config.fromfile(path)
        imports = cfg.get('custom_imports', {})
        assert 'mmseg_face' in imports.get('imports', []), path
        assert imports.get('allow_failed_imports') is False, path
