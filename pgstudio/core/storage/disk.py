"""Writing files: the one path through which pgstudio writes, so a failing disk always reads the same.

Every write of the run folder and of the exports opens its file through :func:`open_for_write`
and runs inside :func:`writing`, which turns whatever the disk refuses into one
:class:`DiskWriteError` that names the file and says what went wrong in words. That covers the
OSError of a full disk, a read-only file system, a permission or a file-size limit, and also the
RuntimeError that torch's zip writer raises when the operating system refuses its bytes
("[enforce fail at inline_container.cc:…] unexpected pos …"), which is not an OSError at all.
"""
from __future__ import annotations

import errno
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EFBIG: "the file would exceed the largest file size allowed here",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "a folder is in the way",
}


class DiskWriteError(OSError):
    """A file could not be written; ``str()`` is one line naming the file and the reason."""

    def __init__(self, path: str | os.PathLike, reason: str, code: int | None = None):
        super().__init__(code, reason, str(path))
        self.path, self.reason = Path(path), reason

    def __str__(self) -> str:
        return f"could not write {self.path}: {self.reason}"


def open_for_write(path: str | os.PathLike, mode: str = "wb"):
    """The one place pgstudio opens a file for writing (tests fake a failing disk here)."""
    return open(path, mode)


def make_folder(path: str | os.PathLike) -> Path:
    path = Path(path)
    with writing(path):
        _mkdir(path)
    return path


def ensure_writable(folder: str | os.PathLike) -> Path:
    """Fail now, before any work is done, if nothing can be written into ``folder``."""
    folder = make_folder(folder)
    probe = folder / f".pgstudio-write-test-{os.getpid()}"
    try:
        with writing(probe):
            with open_for_write(probe, "wb"):
                pass
            os.unlink(probe)
    except DiskWriteError as exc:
        raise DiskWriteError(folder, exc.reason, exc.errno) from exc
    return folder


def _mkdir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)


def _free_space_note(path: Path) -> str:
    for candidate in (path.parent, *path.parents):
        try:
            free = shutil.disk_usage(candidate).free
        except OSError:
            continue
        return f"{free / 2**20:.1f} MB free there"
    return ""


def _describe(exc: OSError) -> str:
    return _REASONS.get(exc.errno or -1) or exc.strerror or str(exc)


def _is_torch_writer_failure(exc: RuntimeError) -> bool:
    text = str(exc)
    return "inline_container" in text or "PytorchStreamWriter" in text or "unexpected pos" in text


@contextmanager
def writing(path: str | os.PathLike):
    """Run a write of ``path``; a refusal of the disk leaves as one DiskWriteError."""
    path = Path(path)
    try:
        yield path
    except DiskWriteError:
        raise
    except OSError as exc:
        raise DiskWriteError(path, _describe(exc), exc.errno) from exc
    except RuntimeError as exc:
        if not _is_torch_writer_failure(exc):
            raise
        # torch hides the operating system's answer; the likely one (and how likely) is measurable
        note = _free_space_note(path)
        raise DiskWriteError(path, "the write stopped part-way, the disk is probably full"
                             + (f" ({note})" if note else ""), errno.ENOSPC) from exc


@contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb"):
    """A file that appears whole or not at all: temporary file → fsync → rename.

    Yields the open temporary file; a failure (of the disk or of the caller) removes it and
    leaves whatever ``path`` held before untouched.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with writing(path):
            with open_for_write(tmp, mode) as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise
    try:                      # make the rename itself durable; a folder that refuses is no error
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def write_atomic(path: str | os.PathLike, data: bytes | str) -> None:
    with atomic_file(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def append_line(path: str | os.PathLike, line: str) -> None:
    """Append one line (a newline is added); the line goes out in one write."""
    with writing(path):
        with open_for_write(path, "ab") as f:
            f.write((line.rstrip("\n") + "\n").encode())


def copy_file(source: str | os.PathLike, destination: str | os.PathLike) -> None:
    """Copy a file's bytes (and times) through the same write path."""
    destination = Path(destination)
    # the source is opened first: a missing one is its own error, not a failure to write
    with open(source, "rb") as src, atomic_file(destination) as out:
        shutil.copyfileobj(src, out, 1 << 20)
    try:
        shutil.copystat(source, destination)
    except OSError:
        pass
