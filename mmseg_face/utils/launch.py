"""Run mmseg 0.30's own tool scripts with mmseg_face registered and patched."""
import argparse
import contextlib
import os
import os.path as osp
import runpy
import sys

import mmseg

from mmseg_face.compat import normalize_local_rank_argv
from mmseg_face.utils.checkpoint import CheckpointError

STOCK_TOOLS_DIR = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools')


def stock_tool_path(name):
    """Path of the installed mmseg's ``tools/<name>.py``."""
    path = osp.join(STOCK_TOOLS_DIR, f'{name}.py')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'mmseg {mmseg.__version__} ships no tools/{name}.py at {path}')
    return path


def _user_error_message(error, input_errors=()):
    """A one-line message for errors caused by the command's input, else None."""
    if isinstance(error, (FileNotFoundError, NotADirectoryError,
                          CheckpointError, *input_errors)):
        return str(error)
    if isinstance(error, KeyError) and 'registry' in str(error):
        # mmcv's builders prefix the message with each enclosing class.
        return str(error).strip('"\'') + \
            ' (is the type spelt right, and is its package in custom_imports?)'
    return None


@contextlib.contextmanager
def exit_on_user_error(prog, input_errors=()):
    """Turn input errors into one ``prog: error: ...`` line and exit code 1.

    Missing files, unusable checkpoints (:class:`CheckpointError`: empty,
    truncated, unsafe, damaged, not fitting the model) and unknown registry
    types always count as input errors; a tool adds its own (e.g. a converter's
    ``ConversionError``) with ``input_errors``. Set ``MMSEG_FACE_DEBUG=1``
    to see the full traceback instead.
    """
    try:
        yield
    except Exception as error:  # noqa: B902 (re-raised unless a user error)
        message = _user_error_message(error, tuple(input_errors))
        if message is None or os.environ.get('MMSEG_FACE_DEBUG'):
            raise
        if os.environ.get('RANK', '0') == '0':
            print(f'{prog}: error: {message}', file=sys.stderr)
        sys.exit(1)


def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not a positive integer')
    return value


def add_conversion_arguments(parser):
    """Add the options every converter tool has: --nproc, --overwrite."""
    parser.add_argument(
        '--nproc', type=positive_int, default=4, help='worker processes')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='delete what an earlier conversion wrote into the output folder '
        '(its conversion.json says what) and convert anew; without it a '
        'folder holding another dataset, release or options is refused')


def conversion_options(args):
    """The keyword arguments of :func:`add_conversion_arguments`' options."""
    return dict(nproc=args.nproc, overwrite=args.overwrite)


def run_conversion(prog, convert, *args, **kwargs):
    """Run a dataset conversion for the tool ``prog`` and exit.

    Prints the conversion summary; the exit status is 1 when items were
    rejected (or the input is unusable, reported as one error line).
    """
    from mmseg_face.datasets.converters import ConversionError
    with exit_on_user_error(prog, input_errors=(ConversionError, )):
        summary = convert(*args, **kwargs)
    print(summary.format())
    sys.exit(1 if summary.rejected else 0)


CHECK_ONLY_FLAG = '--check-only'


def run_stock_tool(name, argv=None):
    """Run mmseg's ``tools/<name>.py`` (train or test) with ``argv``.

    The config's ``custom_imports`` would register mmseg_face too, but only
    after the script has imported mmcv's functions; importing it here first
    lets the script see the compatibility patches. The arguments, as the
    script parses them, pass the start-up checks of
    :mod:`mmseg_face.utils.preflight` before its ``main`` runs; with
    ``--check-only`` the tool stops there and prints what was checked.
    """
    import mmseg_face  # noqa: F401  (patches and registration)
    from mmseg_face.utils.preflight import (StartupCheckError,
                                            check_test_start_up,
                                            check_train_start_up)
    start_up_check = dict(train=check_train_start_up,
                          test=check_test_start_up)[name]

    argv = sys.argv[1:] if argv is None else argv
    check_only = CHECK_ONLY_FLAG in argv
    argv = [arg for arg in argv if arg != CHECK_ONLY_FLAG]
    prog = f'tools/{name}.py'
    with exit_on_user_error(prog, input_errors=(StartupCheckError, )):
        path = stock_tool_path(name)
        if argv and not argv[0].startswith('-') and argv[0].endswith('.py') \
                and not osp.isfile(argv[0]):
            raise FileNotFoundError(f'config file not found: {argv[0]}')
        sys.argv = [path] + normalize_local_rank_argv(argv)
        # Defines the script's functions without running its main.
        script = runpy.run_path(path, run_name='mmseg_stock_tool')
        summary = start_up_check(script['parse_args']())
        if check_only:
            print(f'{prog}: {summary}')
            return
        script['main']()
