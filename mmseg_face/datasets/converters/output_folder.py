"""A converter's claim on its output folder: lock, manifest, leftovers.

A converted folder holds ``conversion.json``, which records what was
written there: the converter (dataset), its options, the converter version
and the identity of the release (its file listing). A later run into the
same folder resumes only when all of these match; otherwise it refuses,
naming what differs. ``overwrite`` deletes the earlier conversion's files
(those the converter writes, nothing else) and converts anew, so a folder
never holds a mix of two conversions.

A lock file (``.conversion.lock``, holding the PID) keeps a second run
out while one is writing; it is an ``flock``, so the kernel releases it when
its holder dies and a stale lock is simply taken over. Temporary files are
named after the writing process and only those of dead processes are
deleted.
"""
import contextlib
import errno
import fcntl
import glob
import hashlib
import json
import logging
import os
import os.path as osp
import re
from typing import NamedTuple, Tuple

from .common import (IMAGE_DIR, LABEL_DIR, SPLITS, TEMP_MARK,
                     ConversionError, atomic_write_bytes)

logger = logging.getLogger(__name__)

MANIFEST = 'conversion.json'
LOCK_FILE = '.conversion.lock'
# Bump when a converter's output for the same input and options changes.
CONVERTER_VERSION = 1
REPLACE_HINT = ('pass --overwrite to replace it, or choose another output '
                'folder')
_TEMP_PID = re.compile(re.escape(TEMP_MARK) + r'(\d+)$')


class OutputLayout(NamedTuple):
    """What a converter writes: ``(folder, suffix)`` pairs and root files.

    Folders are relative to the output root ('' for the root itself).
    """
    folders: Tuple[Tuple[str, str], ...]
    files: Tuple[str, ...] = ()

    def existing_files(self, out_dir):
        """Converter-written files present under ``out_dir``, sorted."""
        paths = [
            osp.join(out_dir, name) for name in self.files + (MANIFEST, )
        ]
        for folder, suffix in self.folders:
            paths += glob.glob(osp.join(out_dir, folder, f'*{suffix}'))
        return sorted(path for path in paths if osp.isfile(path))


DATASET_LAYOUT = OutputLayout(
    folders=((IMAGE_DIR, '.jpg'), (LABEL_DIR, '.png')),
    files=tuple(f'{split}.txt' for split in SPLITS))


def release_identity(root, exclude=None):
    """File count, size and listing digest of a release folder.

    The digest covers every relative file name and size (not mtimes, so a
    copied release keeps its identity); ``exclude`` (the output folder when
    it lies inside the release) is left out.
    """
    excluded = osp.realpath(exclude) if exclude else None
    digest, files, size = hashlib.sha256(), 0, 0
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(
            d for d in subdirs
            if osp.realpath(osp.join(directory, d)) != excluded)
        for name in sorted(names):
            path = osp.join(directory, name)
            try:
                file_size = os.stat(path).st_size
            except OSError:
                file_size = -1  # a broken link is part of the listing too
            relative = osp.relpath(path, root)
            digest.update(f'{relative}\0{file_size}\n'.encode(
                'utf-8', 'surrogateescape'))
            files += 1
            size += max(file_size, 0)
    return dict(
        root=osp.abspath(root),
        files=files,
        bytes=size,
        digest=digest.hexdigest())


def conversion_record(converter, options, release=None):
    """The manifest of a run: converter, options, version and release."""
    return dict(
        converter=converter,
        converter_version=CONVERTER_VERSION,
        options=options,
        release=release)


def claim_dataset_output(out_dir, converter, options, root, overwrite):
    """:func:`claim_output` for a dataset converter reading ``root``."""
    if osp.realpath(out_dir) == osp.realpath(root):
        raise ConversionError(
            f'{out_dir}: the output folder cannot be the release folder')
    record = conversion_record(converter, options,
                               release_identity(root, exclude=out_dir))
    return claim_output(out_dir, record, DATASET_LAYOUT, overwrite)


@contextlib.contextmanager
def claim_output(out_dir, record, layout, overwrite=False):
    """Hold ``out_dir`` for one conversion described by ``record``.

    Creates the folders, takes the lock, checks the manifest against
    ``record`` (with ``overwrite``, deletes the earlier conversion's files
    instead), writes the manifest and deletes temporary files of dead
    processes. Yields the number of files ``overwrite`` deleted.

    Raises:
        ConversionError: One line naming the folder when it cannot be
            created or written, another run holds it, or it holds a
            different conversion and ``overwrite`` is False.
    """
    with _unwritable_as_error(out_dir):
        os.makedirs(out_dir, exist_ok=True)
        lock_fd = os.open(
            osp.join(out_dir, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _lock(lock_fd, out_dir)
        removed = _remove_conversion(out_dir, layout) if overwrite else 0
        if not overwrite:
            conflict = _conflict(out_dir, record, layout)
            if conflict:
                raise ConversionError(
                    f'{out_dir}: {conflict}; {REPLACE_HINT}')
        with _unwritable_as_error(out_dir):
            for folder, _ in layout.folders:
                os.makedirs(osp.join(out_dir, folder), exist_ok=True)
        if not osp.isfile(osp.join(out_dir, MANIFEST)):
            atomic_write_bytes(
                osp.join(out_dir, MANIFEST),
                (json.dumps(record, indent=2, sort_keys=True) +
                 '\n').encode())
        for folder in {''} | {folder for folder, _ in layout.folders}:
            remove_dead_temp_files(osp.join(out_dir, folder))
        yield removed
    finally:
        os.close(lock_fd)  # releases the flock


@contextlib.contextmanager
def _unwritable_as_error(out_dir):
    try:
        yield
    except OSError as error:
        raise ConversionError(
            f'{out_dir}: cannot write the output folder '
            f'({error.strerror or error})') from None


def _lock(lock_fd, out_dir):
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno not in (errno.EAGAIN, errno.EACCES):
            raise ConversionError(
                f'{out_dir}: cannot lock the output folder '
                f'({error.strerror or error})') from None
        holder = os.read(lock_fd, 32).decode(errors='replace').strip()
        raise ConversionError(
            f'{out_dir}: another conversion (PID {holder or "unknown"}) is '
            'writing into this folder; wait for it to end or stop it'
        ) from None
    os.ftruncate(lock_fd, 0)
    os.write(lock_fd, f'{os.getpid()}\n'.encode())


def _conflict(out_dir, record, layout):
    """Why ``out_dir`` cannot take ``record``'s conversion, or ''."""
    manifest_path = osp.join(out_dir, MANIFEST)
    if not osp.isfile(manifest_path):
        present = layout.existing_files(out_dir)
        if present:
            return (f'holds files like a converter\'s output '
                    f'({len(present)}, e.g. '
                    f'{osp.relpath(present[0], out_dir)}) but no {MANIFEST}, '
                    'so what they are is unknown')
        return ''
    try:
        with open(manifest_path, encoding='utf-8') as f:
            recorded = json.load(f)
    except (OSError, ValueError) as error:
        return f'{MANIFEST} is unreadable ({error})'
    if not isinstance(recorded, dict) or 'converter' not in recorded:
        return f'{MANIFEST} is not a conversion manifest'
    return _difference(recorded, record)


def _difference(recorded, record):
    if recorded.get('converter') != record['converter']:
        return (f'holds a {recorded.get("converter")} conversion; this run '
                f'converts {record["converter"]}')
    if recorded.get('converter_version') != record['converter_version']:
        return (f'was written by converter version '
                f'{recorded.get("converter_version")}, this is version '
                f'{record["converter_version"]}')
    old_options, new_options = recorded.get('options') or {}, record['options']
    changed = [
        f'{key}={old_options.get(key)!r} (now {new_options.get(key)!r})'
        for key in sorted(set(old_options) | set(new_options))
        if old_options.get(key) != new_options.get(key)
    ]
    if changed:
        return 'was converted with ' + ', '.join(changed)
    old_release, new_release = recorded.get('release'), record['release']
    if (old_release or {}).get('digest') != (new_release or {}).get('digest'):
        return (f'was converted from another release '
                f'({_describe(old_release)}; this one: '
                f'{_describe(new_release)})')
    return ''


def _describe(release):
    if not release:
        return 'none recorded'
    return (f'{release.get("root")}: {release.get("files")} files, '
            f'{release.get("bytes")} bytes')


def _remove_conversion(out_dir, layout):
    """Delete what a converter wrote into ``out_dir``, nothing else."""
    present = layout.existing_files(out_dir)
    for path in present:
        os.remove(path)
    return len(present)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def remove_dead_temp_files(directory):
    """Delete the temporary files that dead processes left in ``directory``.

    A temporary file ends in ``TEMP_MARK`` + the writer's PID; files of a
    live process (this one included) are left alone.
    """
    stale = []
    for entry in os.scandir(directory):
        match = _TEMP_PID.search(entry.name)
        if entry.is_file() and match and not _pid_alive(int(match.group(1))):
            stale.append(entry.path)
    for path in stale:
        os.remove(path)
    if stale:
        logger.info('removed %d unfinished files of a killed run in %s',
                    len(stale), directory)
