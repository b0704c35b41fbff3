"""Where every error the studio meets goes, so that none fails silently.

A worker's exception, a render job that raised, a slot that raised (through sys.excepthook) or a
thread that died (through threading.excepthook) is reported here: the traceback goes to stderr,
the message is kept (the test suite fails on any it did not expect) and the hub's signal carries
it to the window, which writes it to the log panel, the open run's log.txt and the status bar.
"""
from __future__ import annotations

import sys
import threading
import traceback

from PySide6.QtCore import QObject, Signal


class ErrorHub(QObject):
    """Lives in the GUI thread; ``reported`` may be emitted from any thread (queued to receivers there)."""
    reported = Signal(str, str)          # where it happened, the message (the exception's last line)


_hub: ErrorHub | None = None
_lock = threading.Lock()
_reported: list[tuple[str, str]] = []


def error_hub() -> ErrorHub:
    """The hub; the GUI thread creates it (the window does, before any worker starts)."""
    global _hub
    if _hub is None:
        _hub = ErrorHub()
    return _hub


def describe(exc: BaseException | str) -> str:
    """One line: ``TypeError: unsupported format …`` (the last line of the traceback)."""
    if isinstance(exc, str):
        return exc
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1]}" if text else type(exc).__name__


def report_error(where: str, exc: BaseException | str) -> str:
    """Record and announce an error; returns its one-line message. Safe from any thread."""
    message = describe(exc)
    if isinstance(exc, BaseException) and exc.__traceback__ is not None:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    else:
        print(f"pgstudio: {where}: {message}", file=sys.stderr)
    with _lock:
        _reported.append((where, message))
    if _hub is not None:
        try:
            _hub.reported.emit(where, message)
        except RuntimeError:            # the hub's C++ side is gone (the application is closing)
            pass
    return message


def reported_errors() -> list[tuple[str, str]]:
    with _lock:
        return list(_reported)


def clear_reported_errors() -> None:
    with _lock:
        _reported.clear()


_installed = False


def install_exception_hooks() -> None:
    """An exception that escapes a slot (PySide hands it to sys.excepthook) or a Python thread is
    reported like any other, instead of only printed to a terminal the user may not have."""
    global _installed
    if _installed:
        return
    _installed = True
    previous_sys, previous_thread = sys.excepthook, threading.excepthook

    def on_exception(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            previous_sys(exc_type, exc, tb)
            return
        report_error("unhandled", exc.with_traceback(tb) if exc is not None else exc_type.__name__)

    def on_thread_exception(args):
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            previous_thread(args)
            return
        name = args.thread.name if args.thread is not None else "a thread"
        report_error(f"thread {name}", args.exc_value)

    sys.excepthook = on_exception
    threading.excepthook = on_thread_exception
