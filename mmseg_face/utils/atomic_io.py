"""Writes that leave either the complete new files or the old ones.

Each file is first written in full to a temporary file next to it, named
after the file and this process (so two processes never share one), then
renamed over the target; a failed write (a full disk, say) removes its
temporary files and leaves the targets as they were. A killed process leaves
its temporary files, which :func:`remove_stale_temporaries` deletes once the
process is gone.
"""
import contextlib
import os
import os.path as osp
import re

_TEMPORARY_NAME = re.compile(r'^\..+\.(\d+)\.tmp$')


def temporary_path(path):
    """This process's temporary file for ``path``, in the same folder."""
    directory, base = osp.split(path)
    return osp.join(directory, f'.{base}.{os.getpid()}.tmp')


def _process_exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temporaries(folder):
    """Delete the temporary files of processes that no longer run.

    Files of live processes (another run writing to the same folder) are
    left alone.

    Args:
        folder (str): Folder to clean (not recursive).

    Returns:
        list[str]: Names of the removed files.
    """
    removed = []
    for name in sorted(os.listdir(folder)):
        match = _TEMPORARY_NAME.match(name)
        if match and not _process_exists(int(match.group(1))):
            _remove_quietly(osp.join(folder, name))
            removed.append(name)
    return removed


def _remove_quietly(path):
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def write_files_atomically(files):
    """Write several files, all or none.

    Every file is written to its temporary file before any is renamed, so
    an error while writing (``OSError``, e.g. ENOSPC) leaves no new file and
    no temporary one behind.

    Args:
        files (Sequence[tuple[str, bytes]]): ``(path, contents)`` pairs; the
            folders must exist.

    Raises:
        OSError: The first write error, after cleaning up, with the target
            file as its ``filename``.
    """
    written = []
    try:
        for path, data in files:
            temp = temporary_path(path)
            written.append(temp)
            try:
                with open(temp, 'wb') as f:
                    f.write(data)
            except OSError as error:
                raise OSError(error.errno, error.strerror, path) from error
    except BaseException:
        for temp in written:
            _remove_quietly(temp)
        raise
    renamed = 0
    try:
        for (path, _), temp in zip(files, written):
            os.replace(temp, path)
            renamed += 1
    finally:
        for temp in written[renamed:]:
            _remove_quietly(temp)
