"""Checkpoint files: atomic saves with a content hash, and loading that says
what is wrong with a file, or with how its weights fit a model.

mmcv writes checkpoints in place (a kill leaves a truncated ``iter_N.pth``),
loads them non-strictly (another model's weights only log "missing keys")
and cannot tell a damaged file from an unsafe one. ``mmseg_face.compat``
routes mmcv's local loading and saving through this module; FaceParser,
``tools/test.py`` and the model converters also check the fit.
"""
import hashlib
import os
import os.path as osp
import pickle
import re
import socket
import zipfile

import torch
from mmcv.runner.checkpoint import get_state_dict, load_state_dict
# Bound at import, before mmseg_face.compat puts save_checkpoint below in
# its place.
from mmcv.runner.checkpoint import save_checkpoint as mmcv_save_checkpoint
from mmcv.runner.checkpoint import weights_to_cpu

# meta key holding ``{entry: 'sha256:<hex>'}`` for the other top-level
# entries (``state_dict``, ``optimizer``) of a checkpoint saved here.
CONTENT_HASH_KEY = 'content_hash'
# How many key names an error lists per kind of mismatch.
LISTED_KEYS = 3
# Temporary files are ``.<name>.<host>.<pid>.partial`` next to the target.
_PARTIAL = re.compile(
    r'^\.(?P<name>.+)\.(?P<host>[^.]+)\.(?P<pid>\d+)\.partial$')


class CheckpointError(RuntimeError):
    """A checkpoint file cannot be used.

    Attributes:
        filename (str): The file.
        reason (str): What is wrong with it.
    """

    def __init__(self, filename, reason):
        super().__init__(f'{filename}: {reason}')
        self.filename = filename
        self.reason = reason


class UnsafeCheckpointError(CheckpointError, pickle.UnpicklingError):
    """A checkpoint holds objects outside the weights-only allowlist.

    Also a ``pickle.UnpicklingError``, which stock mmcv raises there, so code
    catching that around ``load_checkpoint`` keeps working.
    """


class CheckpointMismatchError(CheckpointError):
    """The weights of a checkpoint do not fit the model.

    Attributes:
        missing (list[str]): Model keys the checkpoint lacks.
        unexpected (list[str]): Checkpoint keys the model lacks.
        mismatched (list[tuple]): ``(key, checkpoint shape, model shape)``.
    """

    def __init__(self, filename, missing, unexpected, mismatched):
        parts = []
        if missing:
            parts.append(f'{len(missing)} missing keys ({_first(missing)})')
        if unexpected:
            parts.append(f'{len(unexpected)} unexpected keys '
                         f'({_first(unexpected)})')
        if mismatched:
            shapes = [f'{key} {tuple(ours)} in the file, {tuple(model)} in '
                      f'the model' for key, ours, model in mismatched]
            parts.append(f'{len(mismatched)} keys of another shape '
                         f'({_first(shapes)})')
        super().__init__(filename, 'the weights do not fit the model: ' +
                         '; '.join(parts))
        self.missing = missing
        self.unexpected = unexpected
        self.mismatched = mismatched


def _first(items):
    listed = ', '.join(items[:LISTED_KEYS])
    return listed + (', ...' if len(items) > LISTED_KEYS else '')


def _first_line(error):
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


# ---------------------------------------------------------------- hashing


def _feed(hasher, obj):
    """Hash ``obj`` (nested dicts, sequences, tensors, plain values)."""
    if isinstance(obj, torch.Tensor):
        tensor = obj.detach().cpu().contiguous()
        hasher.update(f'tensor {tensor.dtype} {tuple(tensor.shape)};'.encode())
        hasher.update(tensor.reshape(-1).view(torch.uint8).numpy())
    elif isinstance(obj, dict):
        hasher.update(f'dict {len(obj)};'.encode())
        for key, value in obj.items():
            _feed(hasher, key)
            _feed(hasher, value)
    elif isinstance(obj, (list, tuple)):
        hasher.update(f'{type(obj).__name__} {len(obj)};'.encode())
        for item in obj:
            _feed(hasher, item)
    else:
        hasher.update(f'{type(obj).__name__} {obj!r};'.encode())


def content_hash(obj):
    """SHA-256 of the tensors (bytes, dtypes, shapes) and values in ``obj``.

    Args:
        obj: A state dict, an optimizer state, or any nesting of dicts,
            lists, tensors and plain values.

    Returns:
        str: ``'sha256:<hex digest>'``.
    """
    hasher = hashlib.sha256()
    _feed(hasher, obj)
    return f'sha256:{hasher.hexdigest()}'


def verify_content_hash(checkpoint, filename):
    """Check the entries of a loaded checkpoint against the hash in its meta.

    Files without a hash (third-party, older) pass. An entry removed after
    saving (e.g. the optimizer, by a publishing script) is not checked.

    Raises:
        CheckpointError: If an entry differs from what was saved.
    """
    meta = checkpoint.get('meta')
    recorded = meta.get(CONTENT_HASH_KEY) if isinstance(meta, dict) else None
    if not isinstance(recorded, dict):
        return
    for key, expected in recorded.items():
        if key in checkpoint and content_hash(checkpoint[key]) != expected:
            raise CheckpointError(
                filename, f"the '{key}' tensors do not match the content hash "
                'written when the file was saved: it was changed or damaged '
                'after saving; use another copy')


# ----------------------------------------------------------------- saving


def _is_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process
    return True


def _host():
    return socket.gethostname().replace('.', '_')


def remove_stale_partials(folder):
    """Delete the temporary files that dead processes of this host left.

    Args:
        folder (str): Where the checkpoints are written.
    """
    host = _host()
    for name in os.listdir(folder):
        match = _PARTIAL.match(name)
        if match and match['host'] == host and \
                not _is_alive(int(match['pid'])):
            os.remove(osp.join(folder, name))


def write_atomically(filename, write):
    """Write ``filename`` through a temporary file in the same folder.

    ``write(temporary_path)`` writes the whole file; it is flushed to disk
    and renamed over ``filename``, so readers see the old file or the new
    one, never a part. On an error the temporary file is removed; one left
    by a killed process is removed by the next write into the folder.

    Args:
        filename (str): The file to (re)place.
        write (callable): Writes the content to the path it is given.
    """
    folder, name = osp.split(osp.abspath(filename))
    os.makedirs(folder, exist_ok=True)
    remove_stale_partials(folder)
    partial = osp.join(folder, f'.{name}.{_host()}.{os.getpid()}.partial')
    try:
        write(partial)
        with open(partial, 'rb+') as f:
            os.fsync(f.fileno())
        os.replace(partial, filename)
    except BaseException:
        if osp.lexists(partial):
            os.remove(partial)
        raise


def replace_symlink(src, dst):
    """Point the link ``dst`` at ``src`` without a moment where it is gone."""
    folder, name = osp.split(osp.abspath(dst))
    partial = osp.join(folder, f'.{name}.{os.getpid()}.link')
    if osp.lexists(partial):
        os.remove(partial)
    os.symlink(src, partial)
    os.replace(partial, dst)


def _saved_entries(model, optimizer):
    """The entries besides ``meta`` that mmcv's ``save_checkpoint`` writes."""
    entries = dict(state_dict=weights_to_cpu(get_state_dict(model)))
    if isinstance(optimizer, torch.optim.Optimizer):
        entries['optimizer'] = optimizer.state_dict()
    elif isinstance(optimizer, dict):
        entries['optimizer'] = {name: optim.state_dict()
                                for name, optim in optimizer.items()}
    return entries


def save_checkpoint(model, filename, optimizer=None, meta=None,
                    file_client_args=None):
    """mmcv's ``save_checkpoint``, hashed and, for local files, atomic.

    The meta gets :data:`CONTENT_HASH_KEY` (see :func:`content_hash`), which
    loading checks. Arguments are those of ``mmcv.runner.save_checkpoint``.
    """
    meta = dict(meta or {})
    meta[CONTENT_HASH_KEY] = {
        key: content_hash(value)
        for key, value in _saved_entries(model, optimizer).items()}
    if file_client_args is not None or '://' in filename:
        return mmcv_save_checkpoint(model, filename, optimizer, meta,
                                    file_client_args)
    write_atomically(filename, lambda path: mmcv_save_checkpoint(
        model, path, optimizer, meta))


def save_weights(state_dict, filename, meta=None):
    """Save weights as ``{'state_dict', 'meta'}``, hashed and atomically.

    Args:
        state_dict (dict): Tensors by key.
        filename (str): Output file.
        meta (dict, optional): Extra meta entries. Default: None.
    """
    meta = dict(meta or {}, **{CONTENT_HASH_KEY: dict(
        state_dict=content_hash(state_dict))})
    checkpoint = dict(meta=meta, state_dict=state_dict)
    write_atomically(filename, lambda path: torch.save(checkpoint, path))


# ---------------------------------------------------------------- loading


def _check_container(filename):
    """Refuse files that cannot be a torch checkpoint, before unpickling."""
    size = osp.getsize(filename)
    if size == 0:
        raise CheckpointError(filename, 'empty file (0 bytes), not a '
                              'checkpoint; was its writing interrupted?')
    with open(filename, 'rb') as f:
        head = f.read(8)
    if head.startswith(b'PK'):
        if not zipfile.is_zipfile(filename):
            raise CheckpointError(
                filename, f'truncated checkpoint: the zip archive torch.save '
                f'writes ends early ({size} bytes, no end record)')
    elif not head.startswith(b'\x80'):
        raise CheckpointError(
            filename, f'not a PyTorch checkpoint: it starts with {head!r}, '
            "neither torch.save's zip archive nor a pickle")


def _require_dict(checkpoint, filename):
    if not isinstance(checkpoint, dict):
        raise CheckpointError(filename, f'holds a {type(checkpoint).__name__}'
                              ', not a dict of weights')


def load_from_local(filename, map_location=None):
    """Load a local checkpoint with ``weights_only=True`` and check its hash.

    Named as mmcv's local loader, whose name mmcv's log line shows.

    Args:
        filename (str): The file (``~`` is expanded).
        map_location: As for ``torch.load``. Default: None.

    Returns:
        dict: The checkpoint.

    Raises:
        FileNotFoundError: If there is no such file.
        UnsafeCheckpointError: If it holds objects weights-only loading
            refuses (the message names the object).
        CheckpointError: If it is empty, truncated, not a checkpoint, not a
            dict, or differs from its content hash.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
    _check_container(filename)
    try:
        checkpoint = torch.load(filename, map_location=map_location,
                                weights_only=True)
    except pickle.UnpicklingError as error:
        disallowed = re.search(r'Unsupported global: GLOBAL (\S+)',
                               str(error))
        if disallowed:
            raise UnsafeCheckpointError(
                filename, f'refused by weights-only loading: it holds a '
                f'{disallowed[1]} object, and only tensors, containers and '
                'numpy values are loaded') from error
        raise CheckpointError(filename, 'not a PyTorch checkpoint '
                              f'({_first_line(error)})') from error
    except EOFError as error:
        raise CheckpointError(filename, 'truncated checkpoint: the data ends '
                              'early') from error
    except RuntimeError as error:
        raise CheckpointError(filename, 'damaged or not a PyTorch checkpoint '
                              f'({_first_line(error)})') from error
    _require_dict(checkpoint, filename)
    verify_content_hash(checkpoint, filename)
    return checkpoint


def checkpoint_state_dict(checkpoint):
    """The weights of a checkpoint, keys without DDP's ``module.`` prefix."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    return {re.sub(r'^module\.', '', key): value
            for key, value in state_dict.items()}


def _allowed(key, allow_mismatch):
    return any(key == prefix or key.startswith(prefix + '.')
               for prefix in allow_mismatch)


def check_fit(model, state_dict, filename, allow_mismatch=()):
    """Refuse weights that do not fit ``model``.

    Args:
        model (nn.Module): The model (module wrappers are unwrapped).
        state_dict (dict): The weights.
        filename (str): Their file, for the message.
        allow_mismatch (str | Sequence[str]): Module names (e.g.
            ``'decode_head.conv_seg'``) whose keys may be missing,
            unexpected or of another shape. Default: ().

    Raises:
        CheckpointMismatchError: Naming the first keys of each kind.
    """
    if isinstance(allow_mismatch, str):
        allow_mismatch = (allow_mismatch, )
    expected = get_state_dict(model)
    missing = [key for key in expected if key not in state_dict
               and not key.endswith('num_batches_tracked')
               and not _allowed(key, allow_mismatch)]
    unexpected = [key for key in state_dict if key not in expected
                  and not _allowed(key, allow_mismatch)]
    mismatched = [(key, value.shape, expected[key].shape)
                  for key, value in state_dict.items()
                  if key in expected and hasattr(value, 'shape')
                  and value.shape != expected[key].shape
                  and not _allowed(key, allow_mismatch)]
    if missing or unexpected or mismatched:
        raise CheckpointMismatchError(filename, missing, unexpected,
                                      mismatched)


def _load_weights(filename, map_location, logger=None):
    """A checkpoint through mmcv's loaders (ours for local files), and its
    weights."""
    from mmcv.runner import CheckpointLoader
    checkpoint = CheckpointLoader.load_checkpoint(filename, map_location,
                                                  logger)
    _require_dict(checkpoint, filename)
    return checkpoint, checkpoint_state_dict(checkpoint)


def load_fitting_checkpoint(model, filename, map_location=None, *,
                            logger=None, allow_mismatch=()):
    """``mmcv.runner.load_checkpoint`` that refuses weights not fitting.

    Args:
        model (nn.Module): The model to load into.
        filename (str): Local file or any URI mmcv loads.
        map_location: As for ``torch.load``. Default: None.
        logger (logging.Logger, optional): For mmcv's messages about the
            allowed mismatches. Default: None.
        allow_mismatch (Sequence[str]): See :func:`check_fit`. Default: ().

    Returns:
        dict: The checkpoint.

    Raises:
        CheckpointMismatchError: If the weights do not fit (nothing is
            loaded then).
        CheckpointError: If the file is unusable (see
            :func:`load_from_local`).
    """
    checkpoint, state_dict = _load_weights(filename, map_location, logger)
    check_fit(model, state_dict, filename, allow_mismatch)
    load_state_dict(model, state_dict, strict=False, logger=logger)
    return checkpoint


def check_checkpoint_fits(model, filename, allow_mismatch=()):
    """Load ``filename`` on the CPU and :func:`check_fit` it; loads nothing
    into ``model``."""
    _, state_dict = _load_weights(filename, 'cpu')
    check_fit(model, state_dict, filename, allow_mismatch)
