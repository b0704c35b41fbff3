"""One trainer per run folder: an exclusive lock its trainer holds for as long as it writes there.

The lock is an OS file lock (flock) on RUN/trainer.lock, which the operating system drops when
the process ends however it ends (kill -9 included), so a lock from a dead process on this
machine is simply free again. RUN/running.json names the holder (pid, host, start) for the
message a second trainer gets and for the studio, which follows a live run by reading that file
and never touches the lock. A marker left by another machine (a shared disk) cannot be checked
from here: that one is taken over only when asked to (``take_over``, ``pgstudio resume
--take-over``).
"""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from . import disk
from .disk import make_folder, write_atomic, writing

LOCK_NAME = "trainer.lock"
MARKER_NAME = "running.json"

try:
    import fcntl

    def _try_lock(f) -> bool:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(f) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
except ImportError:                     # Windows: a byte-range lock on the first byte
    import msvcrt

    def _try_lock(f) -> bool:
        try:
            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(f) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)


class RunLockedError(Exception):
    """Another trainer holds the run folder; the message names it and what to do."""


def read_marker(folder: str | os.PathLike) -> dict | None:
    """running.json as written by the holder, or None when absent or unreadable."""
    try:
        info = json.loads((Path(folder) / MARKER_NAME).read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:         # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def describe_holder(info: dict) -> str:
    pid, host = info.get("pid", "?"), info.get("host", "?")
    started = info.get("started")
    since = (f" since {time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}"
             if isinstance(started, (int, float)) else "")
    own = " (this process)" if pid == os.getpid() and host == socket.gethostname() else ""
    return f"process {pid}{own} on {host}{since}"


class RunLock:
    """Held by the one process that trains into a folder; :meth:`acquire` or RunLockedError."""

    def __init__(self, folder: Path, handle, took_over: str | None):
        self.folder, self._handle = folder, handle
        self.took_over = took_over          # a sentence for the log when a stale holder was replaced

    @classmethod
    def acquire(cls, folder: str | os.PathLike, take_over: bool = False) -> "RunLock":
        folder = make_folder(Path(folder).expanduser())
        lock_path = folder / LOCK_NAME
        with writing(lock_path):
            handle = disk.open_for_write(lock_path, "ab")
        try:
            took_over = cls._claim(folder, handle, take_over)
            write_atomic(folder / MARKER_NAME, json.dumps(
                {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(), "lock": LOCK_NAME}))
        except BaseException:
            _close(handle)
            raise
        return cls(folder, handle, took_over)

    @staticmethod
    def _claim(folder: Path, handle, take_over: bool) -> str | None:
        here = socket.gethostname()
        # a follower never locks, but be patient a moment anyway (an unlock may be under way)
        for attempt in range(10):
            if _try_lock(handle):
                break
            time.sleep(0.05)
        else:
            info = read_marker(folder) or {}
            raise RunLockedError(f"{folder} is being trained by {describe_holder(info)}: open it in the "
                                 "studio to follow it, or stop that training first")
        info = read_marker(folder)
        if info is None:
            return None
        pid, host = info.get("pid", -1), info.get("host")
        if not isinstance(pid, int):
            pid = -1
        if host != here:
            if take_over:
                return f"took the run folder over from {describe_holder(info)} (asked to)"
            _unlock(handle)
            raise RunLockedError(
                f"{folder} is marked as being trained by {describe_holder(info)}; a trainer on another "
                "machine cannot be checked from here — if it is no longer running, take the folder "
                "over with `pgstudio resume RUN --take-over`")
        if "lock" not in info and _pid_alive(pid) and pid != os.getpid():
            # written by a pgstudio from before run-folder locks, whose trainer may still be writing
            _unlock(handle)
            raise RunLockedError(f"{folder} is being trained by {describe_holder(info)}: stop that "
                                 "training first")
        return f"took over a stale lock from {describe_holder(info)}, which is no longer training"

    def release(self) -> None:
        if self._handle is None:
            return
        try:
            info = read_marker(self.folder)
            if info is not None and info.get("pid") == os.getpid():
                (self.folder / MARKER_NAME).unlink(missing_ok=True)
        except OSError:
            pass
        _close(self._handle)
        self._handle = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def __del__(self):
        try:
            self.release()
        except Exception:
            pass


def _close(handle) -> None:
    try:
        _unlock(handle)
    except OSError:
        pass
    try:
        handle.close()
    except OSError:
        pass


def live_holder(folder: str | os.PathLike) -> dict | None:
    """The marker of a trainer that is writing into ``folder`` now, read-only (what followers use).

    On this machine a marker whose process is gone is stale and ignored; one from another
    machine is trusted.
    """
    info = read_marker(folder)
    if info is None:
        return None
    pid = info.get("pid", -1)
    if info.get("host") != socket.gethostname():
        return info
    return info if isinstance(pid, int) and _pid_alive(pid) else None
