"""Worker QObjects that run core jobs in a QThread (training, dataset import).

Pattern (design.md §6): worker without parent, moveToThread, thread.started → worker.run,
worker done → thread.quit; both are released in the GUI thread once the thread has finished
(see _Reaper for why a worker is never deleted in its own thread). A busy loop never runs its thread's event
loop, so stop/pause go through thread-safe flags, never through queued slots.
"""
from __future__ import annotations

import threading
import traceback

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from ...core.training.events import TrainerControl
from .mailbox import EventMailbox


_LIVE_THREADS: set = set()        # keeps each QThread's wrapper alive until the thread has finished
_WORKERS: dict = {}               # QThread → its worker, released with it


class _Reaper(QObject):
    """Lives in the GUI thread and releases a finished thread and its worker there.

    A worker must not be destroyed in its own thread: PySide's QObject destructor takes the
    GIL while Qt holds its signal-slot lock, and a GUI thread that holds the GIL while it
    connects a signal (QLabel.setText does) waits for that lock — a deadlock seen in the tests
    when an import finished just as the window updated. So no deleteLater for workers: the
    last Python reference is dropped here, in the GUI thread, after the thread has finished.
    """

    @Slot()
    def reap(self) -> None:
        thread = self.sender()
        _WORKERS.pop(thread, None)          # the worker goes here, in this thread
        _LIVE_THREADS.discard(thread)       # and the finished QThread when its wrapper goes


_reaper: _Reaper | None = None


class _GuiThreadCollector:
    """Automatic collection off; a 1 s timer in the GUI thread collects instead. The youngest
    generation is collected on every tick — it is cheap, and the allocation count pyqtgraph's
    GarbageCollector waits for can be cancelled out by deallocations (a closed window's objects
    being freed) — the likeliest cause of a cycle the full test suite saw stay uncollected now and
    then; the older generations follow Python's own thresholds."""

    def __init__(self, interval_s: float = 1.0):
        import gc
        from PySide6.QtCore import QTimer
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer()
        self.timer.timeout.connect(self.collect)
        self.timer.start(int(interval_s * 1000))

    def collect(self) -> None:
        import gc
        _, l1, l2 = gc.get_count()
        gc.collect(0)
        if l1 > self.threshold[1]:
            gc.collect(1)
            if l2 > self.threshold[2]:
                gc.collect(2)


_gui_thread_gc: _GuiThreadCollector | None = None


def collect_garbage_in_gui_thread() -> None:
    """Python's cyclic garbage collector runs in whichever thread happens to allocate, and the
    trainer thread allocates the most. When a collection there frees a Qt object (a closed
    dialog in a reference cycle, say), its destructor takes Qt's signal-slot lock and then waits
    for the GIL, while a GUI thread holding the GIL waits for that lock: a deadlock, caught with
    py-spy in the test suite (the training thread inside Trainer.__init__'s deepcopy, in
    gc_collect_main → ~QObject). Automatic collection is turned off and a timer collects in the
    GUI thread instead (_GuiThreadCollector, after pyqtgraph's GarbageCollector), so Qt objects
    are only ever freed here. Called by the window (once per process; the GUI thread must call it)."""
    global _gui_thread_gc
    if _gui_thread_gc is None:
        _gui_thread_gc = _GuiThreadCollector()


def start_in_thread(worker: QObject, done_signals: list) -> QThread:
    global _reaper, _exit_hook_registered
    if _reaper is None:
        _reaper = _Reaper()               # created by the first caller: the GUI thread
    if not _exit_hook_registered:
        import atexit
        atexit.register(stop_all_threads)
        _exit_hook_registered = True
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    for sig in done_signals:
        # direct: QThread.quit is thread-safe, and a queued quit could land after the GUI
        # already waits on the thread
        sig.connect(thread.quit, Qt.DirectConnection)
    _LIVE_THREADS.add(thread)
    _WORKERS[thread] = worker
    thread.finished.connect(_reaper.reap, Qt.QueuedConnection)     # runs in the GUI thread
    thread.start()
    return thread


def stop_all_threads(timeout_ms: int = 60000) -> None:
    """Ask every worker started here to stop (its stop(), cancel() or training control), wait for
    its thread, and release both in this thread. Run by the window's close and by QApplication's
    aboutToQuit, and at interpreter exit for a script that ends without either: a QThread object
    destroyed while its thread runs aborts the process, and a worker freed during Python's
    finalization, after Qt's own objects, crashed it."""
    for thread, worker in list(_WORKERS.items()):
        for name in ("stop", "cancel"):
            if callable(getattr(worker, name, None)):
                try:
                    getattr(worker, name)()
                except RuntimeError:        # its C++ side is already gone
                    pass
                break
        else:
            control = getattr(worker, "control", None)
            if control is not None:
                control.request_stop()
    for thread in list(_LIVE_THREADS):
        try:
            if thread.isRunning():
                thread.quit()
                thread.wait(timeout_ms)
        except RuntimeError:
            pass
    for thread in [t for t in list(_LIVE_THREADS) if not _is_running(t)]:
        _WORKERS.pop(thread, None)
        _LIVE_THREADS.discard(thread)


def _is_running(thread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:
        return False


_exit_hook_registered = False


def running_threads() -> int:
    """QThreads started here that have not finished (tests check it is 0 after closing)."""
    return sum(1 for t in list(_LIVE_THREADS) if isinstance(t, QThread) and t.isRunning())


def wait_for_threads(timeout_ms: int = 30000) -> None:
    for t in list(_LIVE_THREADS):
        if isinstance(t, QThread):
            t.wait(timeout_ms)


class TrainingWorker(QObject):
    """Builds a core Trainer (new run or resume) and runs it; events go to the mailbox."""
    started_run = Signal(str)          # run folder
    done = Signal(object)              # core RunResult, or an error string

    def __init__(self, mailbox: EventMailbox, run_dir: str, cfg=None, dataset=None,
                 resume: bool = False, checkpoint: str | None = None, lr_scale: float | None = None,
                 max_kimg: float | None = None):
        super().__init__()
        self.mailbox = mailbox
        self.run_dir = run_dir
        self.cfg = cfg
        self.dataset = dataset
        self.resume = resume
        self.checkpoint = checkpoint
        self.lr_scale = lr_scale
        self.max_kimg = max_kimg if max_kimg is not None else (cfg.max_kimg if cfg is not None else None)
        self.control = TrainerControl()
        self.trainer = None

    @Slot()
    def run(self) -> None:
        from ...core.training.trainer import RunResult, Trainer
        try:
            if self.resume:
                self.trainer = Trainer.resume(self.run_dir, checkpoint=self.checkpoint, dataset=self.dataset,
                                              max_kimg=self.max_kimg,
                                              lr_scale=self.lr_scale, on_event=self.mailbox.put,
                                              control=self.control)
            else:
                self.trainer = Trainer.new(self.run_dir, self.cfg, dataset=self.dataset,
                                           on_event=self.mailbox.put, control=self.control)
        except Exception as exc:       # a bad folder or checkpoint: say so, keep the app alive
            self.done.emit(RunResult("error", 0.0, str(exc)))
            return
        self.started_run.emit(str(self.trainer.run_folder.path))
        try:
            result = self.trainer.run()
        except BaseException as exc:    # never let an exception kill the thread silently
            result = RunResult("error", self.trainer.images_seen / 1000, f"{type(exc).__name__}: {exc}")
            traceback.print_exc()
        self.done.emit(result)


class ImportWorker(QObject):
    progress = Signal(int, int)
    done = Signal(object)              # ImageDataset, or an Exception, or None when cancelled

    def __init__(self, source: str | None, demo: bool, resolution: int, mode: str, channels: str):
        super().__init__()
        self.source, self.demo = source, demo
        self.resolution, self.mode, self.channels = resolution, mode, channels
        self._cancel = threading.Event()
        self._last_pct = -1

    def cancel(self) -> None:
        self._cancel.set()

    def _progress(self, done: int, total: int) -> None:
        pct = int(100 * done / max(total, 1))
        if pct != self._last_pct:          # at most 101 signals, however large the folder
            self._last_pct = pct
            self.progress.emit(done, total)

    @Slot()
    def run(self) -> None:
        from ...core.data.dataset import ImportCancelled, load_dataset
        try:
            ds = load_dataset(self.source, self.demo, self.resolution, self.mode, self.channels,
                              **({} if self.demo else {"progress": self._progress,
                                                        "cancelled": self._cancel.is_set}))
        except ImportCancelled:
            self.done.emit(None)
            return
        except Exception as exc:
            self.done.emit(exc)
            return
        self.done.emit(ds)
