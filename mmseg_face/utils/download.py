"""Download files into the mmseg_face cache: resumable, checked, atomic.

A download is written to ``<file>.part`` next to its target and renamed
over it only when complete (and, where a sha256 is known, checked), so the
cache holds whole files or nothing. An interrupted download keeps its
``.part`` and the next call resumes it with an HTTP ``Range`` request (a
server that ignores ``Range`` sends the whole file again). A folder lock
keeps two processes from writing the same file.
"""
import contextlib
import fcntl
import http.client
import os
import os.path as osp
import re
import urllib.error
import urllib.request

from .checkpoint_converters import file_sha256

CACHE_ENV = 'MMSEG_FACE_HOME'
DEFAULT_CACHE = osp.join('~', '.cache', 'mmseg_face')
CHUNK_SIZE = 1 << 16
TIMEOUT_S = 60


class DownloadError(RuntimeError):
    """A file could not be downloaded, or not as published.

    Attributes:
        url (str): Where it was downloaded from.
        reason (str): What went wrong.
    """

    def __init__(self, url, reason):
        super().__init__(f'{url}: {reason}')
        self.url = url
        self.reason = reason


def cache_dir():
    """The cache folder: ``$MMSEG_FACE_HOME``, else ``~/.cache/mmseg_face``."""
    return osp.abspath(osp.expanduser(os.environ.get(CACHE_ENV)
                                      or DEFAULT_CACHE))


@contextlib.contextmanager
def folder_lock(folder):
    """Hold an exclusive lock on ``folder`` (created if needed) while in
    the block; another process waits for it."""
    os.makedirs(folder, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _open(url, offset):
    headers = {'User-Agent': 'mmseg_face'}
    if offset:
        headers['Range'] = f'bytes={offset}-'
    return urllib.request.urlopen(
        urllib.request.Request(url, headers=headers), timeout=TIMEOUT_S)


def _start(url, part):
    """Open ``url``, resuming ``part`` when the server honours ``Range``.

    Returns:
        tuple: The response, the bytes already in ``part`` that it
        continues, and the file's total size (None if unknown).
    """
    offset = osp.getsize(part) if osp.exists(part) else 0
    try:
        response = _open(url, offset)
    except urllib.error.HTTPError as error:
        if error.code != 416 or not offset:
            raise
        # The part is as long as the file or longer: not resumable.
        os.remove(part)
        offset, response = 0, _open(url, 0)
    if offset and response.status == 206:
        match = re.match(r'bytes (\d+)-\d+/(\d+|\*)',
                         response.headers.get('Content-Range', ''))
        if match and int(match[1]) == offset:
            total = match[2]
            return response, offset, int(total) if total != '*' else None
        # Another range than asked for: fetch the whole file instead.
        response.close()
        response = _open(url, 0)
    length = response.headers.get('Content-Length')
    # A full response (the server ignored Range): the part is rewritten.
    return response, 0, int(length) if length else None


def _receive(url, part, progress, label):
    from tqdm import tqdm
    response, offset, total = _start(url, part)
    received = offset
    with response, open(part, 'ab' if offset else 'wb') as file, tqdm(
            total=total, initial=offset, unit='B', unit_scale=True,
            unit_divisor=1024, desc=label, disable=not progress,
            leave=False) as bar:
        for chunk in iter(lambda: response.read(CHUNK_SIZE), b''):
            file.write(chunk)
            received += len(chunk)
            bar.update(len(chunk))
        file.flush()
        os.fsync(file.fileno())
    if total is not None and received < total:
        raise ConnectionError(f'the connection closed after {received:,} '
                              f'of {total:,} bytes')


def download(url, dst, sha256=None, progress=True):
    """Download ``url`` to ``dst`` unless it is there already.

    Args:
        url (str): The file's address.
        dst (str): Where it goes; its folder is created.
        sha256 (str, optional): Its published hex sha256. A download that
            differs is deleted and refused. Default: None (not checked).
        progress (bool): Show a progress bar on stderr. Default: True.

    Returns:
        tuple[str, str | None]: ``dst``, and the sha256 computed while
        downloading (None when ``dst`` was already there).

    Raises:
        DownloadError: If the server cannot be reached or refuses the file
            (nothing kept), the transfer stops early (the part is kept and
            the next call resumes it) or the sha256 differs (nothing kept).
    """
    if osp.isfile(dst):
        return dst, None
    part = dst + '.part'
    folder = osp.dirname(osp.abspath(dst))
    with folder_lock(folder):
        if osp.isfile(dst):  # another process finished it meanwhile
            return dst, None
        try:
            return dst, _download_locked(url, dst, part, sha256, progress)
        except DownloadError:
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # only if the failure left it empty
            raise


def _download_locked(url, dst, part, sha256, progress):
    try:
        _receive(url, part, progress, osp.basename(dst))
    except urllib.error.HTTPError as error:
        raise DownloadError(url, f'the server answered HTTP {error.code} '
                            f'({error.reason})') from error
    except (OSError, http.client.HTTPException) as error:
        if not osp.exists(part) or not osp.getsize(part):
            with contextlib.suppress(FileNotFoundError):
                os.remove(part)
            raise DownloadError(url, f'download failed ({error})') \
                from error
        raise DownloadError(
            url, f'download interrupted ({error}); {osp.getsize(part):,} '
            f'bytes are kept in {part}, and the next call resumes from '
            'there') from error
    digest = file_sha256(part)
    if sha256 is not None and digest != sha256.lower():
        os.remove(part)
        raise DownloadError(
            url, f'sha256 mismatch: expected {sha256}, got {digest}; '
            'the download was deleted and nothing is cached')
    os.replace(part, dst)
    return digest
