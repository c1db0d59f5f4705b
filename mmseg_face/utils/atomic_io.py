"""Writes that leave either the complete new files or the old ones.

Each file is first written in full to a temporary file next to it, named
after the file and this process (so two processes never share one), then
renamed over the target; a failed write (a full disk, say) removes its
temporary files and leaves the targets as they were.
"""
import contextlib
import os
import os.path as osp


def temporary_path(path):
    """This process's temporary file for ``path``, in the same folder."""
    directory, base = osp.split(path)
    return osp.join(directory, f'.{base}.{os.getpid()}.tmp')


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
