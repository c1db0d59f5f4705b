"""Logit parity of the survey models with their official code.

For each case in ``bench/survey_parity/`` the script extracts the original
repository's Python sources from a snapshot fetched outside this tree
(``--mirror``: the folder holding ``owner+name/repo`` snapshots, as the
search tool's ``fetch`` leaves them; nothing is downloaded), builds the
original network, gives it seeded random weights and BatchNorm statistics,
copies them into ours through the case's key map (every key of ours filled
exactly once, same shapes), and compares the main logits on a seeded input
in eval mode, fp32: max abs difference / max abs logit (limit 1e-5). It
prints one table (recorded in ``docs/parity.md``) and exits 1 if a row is
over the limit.

Usage: ``python bench/parity_survey.py --mirror DIR [--models NAME ...]``
"""
import argparse
import importlib
import os.path as osp
import pkgutil
import sys
import tempfile

import torch

BENCH = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, BENCH)
from parity_vs_original import LOGIT_LIMIT, extract_snapshot, randomize  # noqa: E402,E501
from survey_parity import copy_weights, relative_error, seeded_input  # noqa: E402,E501


def all_cases():
    import survey_parity
    cases = []
    for info in sorted(pkgutil.iter_modules(survey_parity.__path__),
                       key=lambda info: info.name):
        module = importlib.import_module(f'survey_parity.{info.name}')
        cases.extend(module.CASES)
    return {case.name: case for case in cases}


def parse_args(names):
    parser = argparse.ArgumentParser(
        description='Compare the survey models with their official code')
    parser.add_argument(
        '--mirror', required=True,
        help='folder holding the fetched snapshots (owner+name/repo)')
    parser.add_argument('--models', nargs='+', default=names, choices=names)
    return parser.parse_args()


def run_case(case, mirror, workdir):
    from mmseg_face.utils.complexity import count_parameters
    source_dir, commit = extract_snapshot(mirror, case.repo, workdir)
    sys.path.insert(0, source_dir)
    try:
        original = case.build_original(source_dir).eval()
        randomize(original, seed=0)
        if case.after_randomize:
            case.after_randomize(original)
        ours = case.build_ours().eval()
        copy_weights(original, ours, case.key_map)
        inputs = seeded_input(case.input_shape)
        with torch.no_grad():
            expected = case.original_logits(original, inputs)
            got = case.our_logits(ours, inputs)
        if expected.shape != got.shape:
            raise ValueError(f'original gives {tuple(expected.shape)}, '
                             f'ours {tuple(got.shape)}')
        return dict(commit=commit[:12], error=relative_error(expected, got),
                    original_params=count_parameters(original),
                    our_params=count_parameters(ours),
                    shape=tuple(got.shape))
    finally:
        sys.path.remove(source_dir)
        for name in list(sys.modules):
            if name in case.modules or name.split('.')[0] in case.modules:
                sys.modules.pop(name)


def main():
    cases = all_cases()
    args = parse_args(list(cases))
    import mmseg_face  # noqa: F401
    print(f'| model | original (commit) | parameters, original / ours | '
          f'logits | max abs diff / max abs logit (limit {LOGIT_LIMIT:g}) |')
    print('|---|---|---|---|---|')
    failed = False
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.models:
            case = cases[name]
            row = run_case(case, args.mirror, workdir)
            failed |= row['error'] > LOGIT_LIMIT
            print(f'| {name} | {case.repo.replace("+", "/")}@{row["commit"]}'
                  f' | {row["original_params"]:,} / {row["our_params"]:,} | '
                  f'{"×".join(map(str, row["shape"]))} | '
                  f'{row["error"]:.2e} |', flush=True)
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
