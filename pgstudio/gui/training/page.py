"""Training page: controls, live curves, sample grids, and a run folder opened or followed.

Live training: a TrainingWorker runs the core trainer in a QThread and drops events into a
mailbox; a 30 Hz timer drains it (latest grid wins) and redraws only what changed.
Opened runs: the history is rebuilt from the run folder; if another process is training into
it, a 1 s timer reads what it appended (a follower never trains).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEventLoop, QThread, QTimer, Qt, Signal
from PySide6.QtWidgets import (QDoubleSpinBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton,
                               QSplitter, QVBoxLayout, QWidget)

from ...core.formatting import format_duration
from ...core.storage.disk import copy_file, ensure_writable, write_atomic
from ...core.analysis.export import save_image
from ...core.storage.run_status import ended_state, newest_checkpoint_images
from ...core.storage.runfolder import RunFolder, SampleEntry
from ...core.training.schedule import estimate_seconds, total_kimg
from ..common.grid_view import png_bytes
from ..common.mailbox import EventMailbox
from .plots import TrainingPlots
from .queue_driver import QueueDriver
from .run_history import RunHistory
from .sample_browser import SampleBrowser
from ..common.workers import TrainingWorker, start_in_thread
from ..common.settings import remember_throughput, throughput_key
from ..common.studio import Studio
from ..common.widgets import exported, named
from ..common.file_dialogs import existing_directory, save_file_name

UI_HZ = 30


class TrainingPage(QWidget):
    status_changed = Signal(dict)
    error_occurred = Signal(str)
    blew_up = Signal(str)                          # training stopped on NaN/inf (the message says where)
    run_opened = Signal(str)
    training_state_changed = Signal(bool)          # True while a trainer runs in this window
    ticked = Signal(dict)
    checkpoint_written = Signal(str)
    snapshot_ready = Signal(object)
    queue_started = Signal(str)                    # a run queue's folder (the Runs page lists its runs)

    def __init__(self, studio: Studio | None = None, parent=None):
        super().__init__(parent)
        self.studio = studio or Studio()
        self.studio.changed.connect(self._studio_changed)
        self.history = RunHistory()
        self.mailbox = EventMailbox()
        self.run: RunFolder | None = None
        self.cfg = None
        self.worker: TrainingWorker | None = None
        self.thread: QThread | None = None
        self.following = False
        self.paused = False
        self.last_result = None
        self._metrics_offset = 0
        self._samples_offset = 0
        self._log_offset = 0                      # bytes of the run's log.txt shown (opened or followed runs)
        self._known_checkpoints: set = set()      # a followed run's checkpoints, to tell when it writes one
        self._total_kimg = 0.0
        self.want_snapshots = False               # the explorer follows the live generator
        self.paused_kimg: float | None = None     # where the running trainer paused, as it reported
        self.queue: QueueDriver | None = None     # a run queue this window trains, run after run

        self.start_button = named(QPushButton("Start"), "start")
        self.pause_button = named(QPushButton("Pause"), "pause")
        self.stop_button = named(QPushButton("Stop"), "stop")
        self.save_button = named(QPushButton("Save checkpoint now"), "save_checkpoint")
        self.export_grid_button = named(QPushButton("Export grid…"), "export_grid")
        self.export_all_button = named(QPushButton("Export all grids…"), "export_all_grids")
        self.timelapse_button = named(QPushButton("Time-lapse…"), "export_timelapse")
        self.timelapse_button.setToolTip("every grid of the run as a GIF or MP4, captioned with kimg and resolution")
        self.export_csv_button = named(QPushButton("Curves as CSV…"), "export_csv")
        self.export_png_button = named(QPushButton("Curves as PNG…"), "export_curves_png")
        # a completed run goes on for this many more kimg (the schedule's end moves; config.json says so)
        self.more_kimg = named(QDoubleSpinBox(), "continue_kimg")
        self.more_kimg.setRange(0.001, 1e6)
        self.more_kimg.setDecimals(3)
        self.more_kimg.setSuffix(" more kimg")
        self.more_kimg.setToolTip("how much longer Continue trains a completed run")
        self.more_kimg.setVisible(False)
        self.state_label = QLabel("no run")
        self.state_label.setMinimumWidth(40)
        self.state_label.setWordWrap(True)
        self.state_label.setObjectName("run_state")
        bar = QHBoxLayout()
        for b in (self.start_button, self.more_kimg, self.pause_button, self.stop_button, self.save_button):
            bar.addWidget(b)
        bar.addSpacing(16)
        bar.addWidget(self.state_label, 1)

        self.plots = TrainingPlots()
        self.samples = SampleBrowser()
        self.plots.seek_requested.connect(self.samples.seek)
        self.samples.shown_changed.connect(self._mark_shown_grid)
        self.plots.controls_layout.addWidget(self.export_csv_button)
        self.plots.controls_layout.addWidget(self.export_png_button)
        self.samples.actions_layout.addWidget(self.export_grid_button)
        self.samples.actions_layout.addWidget(self.export_all_button)
        self.samples.actions_layout.addWidget(self.timelapse_button)
        self.samples.actions_layout.addStretch(1)
        self.splitter = named(QSplitter(Qt.Horizontal), "training_splitter")
        self.splitter.addWidget(self.plots)
        self.splitter.addWidget(self.samples)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.log = named(QPlainTextEdit(), "log")
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self.vsplit = named(QSplitter(Qt.Vertical), "training_vsplit")
        self.vsplit.addWidget(self.splitter)
        self.vsplit.addWidget(self.log)
        self.vsplit.setStretchFactor(0, 5)
        self.vsplit.setStretchFactor(1, 1)

        # what the newest ticks say is wrong (a stalled network); rebuilt from the history, so an
        # opened or followed run shows it as well as a live one
        self.warning_label = named(QLabel(), "training_warning")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("QLabel { background: #fff3cd; color: #664d03; border: 1px solid #e0c36a;"
                                         " padding: 4px 8px; }")
        self.warning_label.setVisible(False)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.warning_label)
        layout.addWidget(self.vsplit, 1)

        self.start_button.clicked.connect(self.start_or_resume)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.save_button.clicked.connect(self.save_now)
        self.export_grid_button.clicked.connect(self.export_grid)
        self.export_all_button.clicked.connect(self.export_all_grids)
        self.export_csv_button.clicked.connect(self.export_csv)
        self.timelapse_button.clicked.connect(self.export_timelapse)
        self.export_png_button.clicked.connect(self.export_curves_png)

        self.ui_timer = QTimer(self)
        self.ui_timer.setInterval(1000 // UI_HZ)
        self.ui_timer.timeout.connect(self._drain)
        self.follow_timer = QTimer(self)
        self.follow_timer.setInterval(1000)
        self.follow_timer.timeout.connect(self._poll_folder)
        self._update_buttons()

    # -------------------------------------------------------------- state
    def is_training(self) -> bool:
        return self.thread is not None

    def _update_buttons(self) -> None:
        training = self.is_training()
        ended, words = self.ended_state() if (self.run is not None and not training and not self.following) \
            else ("", "")
        can_resume = ended in ("stopped", "failed", "completed")
        completed = ended == "completed"
        self.start_button.setText("Continue" if completed else "Resume" if can_resume else "Start")
        queued = self.queue is not None and not training and self.queue.has_next()
        if queued:
            self.start_button.setText("Continue queue")
        self.start_button.setEnabled(not training and not self.following and
                                     (can_resume or self.run is None or queued))
        if completed and not self.more_kimg.isVisible() and self.cfg is not None:
            self.more_kimg.setValue(self.cfg.stabilize_kimg)     # one more stabilize phase by default
        self.more_kimg.setVisible(completed)
        self.pause_button.setEnabled(training)
        self.pause_button.setText("Resume" if self.paused else "Pause")
        self.stop_button.setEnabled(training)
        self.save_button.setEnabled(training)
        has_samples = bool(self.history.samples)
        self.export_grid_button.setEnabled(has_samples)
        self.export_all_button.setEnabled(has_samples)
        self.timelapse_button.setEnabled(has_samples and self.run is not None)
        self.export_csv_button.setEnabled(bool(self.history.kimg))
        self.export_png_button.setEnabled(bool(self.history.kimg))
        if training:
            state = (f"paused at {self.paused_kimg:.3f} kimg" if self.paused and self.paused_kimg is not None
                     else "paused" if self.paused else "training")
        elif self.following:
            state = "following a run written by another process"
        elif self.run is not None:
            state = words
        else:
            state = "no run"
        # the run's name, not its path: the words must fit beside the buttons at 1280 px (the path is
        # the tooltip); a long state wraps onto a second line instead of being cut off
        where = f"  ·  {self.run.path.name}" if self.run else ""
        self.state_label.setText(state + where)
        self.state_label.setToolTip(state + (f"\n{self.run.path}" if self.run else ""))

    def ended_state(self) -> tuple[str, str]:
        """What the open run is when nothing trains it here: ("completed" | "failed" | "stopped" |
        "fresh", the words for it). Read from its ending record; folders from before those
        records are completed when their newest checkpoint reached the schedule's end."""
        return ended_state(self.cfg, self.history.ending, newest_checkpoint_images(self.run.checkpoints()))

    def _mark_shown_grid(self) -> None:
        entry = self.samples.shown_entry()
        self.plots.set_marker(entry.kimg if entry is not None else None)

    def _reset_view(self) -> None:
        self.history = RunHistory()
        self.plots.clear()
        self.samples.clear()
        self.warning_label.setVisible(False)
        self.mailbox.drain()
        self._metrics_offset = self._samples_offset = self._log_offset = 0
        self._known_checkpoints = set()

    def append_log(self, message: str) -> None:
        for line in message.rstrip().splitlines():
            self.log.appendPlainText(f"{time.strftime('%H:%M:%S')}  {line}")

    # -------------------------------------------------------------- training in this window
    def start_or_resume(self) -> None:
        """Start: the queue's next run, resume (or continue) the open run, or ask the setup form
        for a new one."""
        if self.queue is not None and not self.is_training() and self.queue.has_next():
            self._start_queued()
        elif self.run is not None and self.run.checkpoints() and not self.is_training():
            if self.ended_state()[0] == "completed":
                self.continue_run(self.more_kimg.value())
            else:
                self.resume_current()
        elif not self.is_training():
            self.studio.state.ask_to_start()

    def _studio_changed(self, what: str) -> None:
        if what == "start_requested":
            request = self.studio.state.take_start_request()
            if request is not None and request.queue:
                self.start_queue(request.out_dir, request.dataset)
            elif request is not None:
                self.start_new(request.cfg, request.dataset, request.out_dir)

    # -------------------------------------------------------------- a run queue
    def start_queue(self, folder: str, dataset=None) -> None:
        """Train the queue in ``folder`` run after run (core/training/run_queue.py)."""
        from ...core.storage.runlock import RunLockedError
        from ...core.training.run_queue import QueueError
        if self.is_training():
            return
        self._close_queue()
        try:
            self.queue = QueueDriver(folder, dataset)
        except (QueueError, RunLockedError, OSError) as exc:
            self.error_occurred.emit(f"cannot train the queue: {exc}")
            return
        self.queue_started.emit(str(self.queue.folder))
        self._start_queued()

    def _start_queued(self) -> None:
        """The queue's next run (a new one, or one that stopped, resumed); the queue's end said."""
        if self.queue is None or self.is_training():
            return
        nxt = self.queue.next()
        if nxt is None:
            self.append_log(f"queue {self.queue.folder} finished: {self.queue.summary()}")
            self._close_queue()
            self._update_buttons()
            return
        run, folder, resumes = nxt
        if resumes:
            self.run = RunFolder(folder)
            self.resume_current()
        else:
            self.start_new(run.train_config(), self.queue.dataset, str(folder))
        self.append_log(f"queue {self.queue.position()}: {run.name}" + (" (resumed)" if resumes else ""))

    def _close_queue(self) -> None:
        if self.queue is not None:
            self.queue.close()
            self.queue = None

    def continue_run(self, more_kimg: float) -> None:
        """Train a completed run for ``more_kimg`` beyond its newest checkpoint (its end moves)."""
        last = newest_checkpoint_images(self.run.checkpoints()) or 0
        if total_kimg(self.run.read_config()) * 1000 > last:
            self.resume_current()         # its end was moved since (config.json): train to there
        else:
            self.resume_current(max_kimg=round(last / 1000 + more_kimg, 3))

    def start_new(self, cfg, dataset, out_dir: str) -> None:
        if self.is_training():
            return
        self.stop_following()
        self._reset_view()
        self.log.clear()                         # the panel shows the new run's log
        self.cfg = cfg
        self.run = RunFolder(out_dir)
        self._total_kimg = total_kimg(cfg)
        self._launch(TrainingWorker(self.mailbox, out_dir, cfg=cfg, dataset=dataset))
        self.append_log(f"starting a new run in {out_dir}")

    def resume_current(self, checkpoint: str | None = None, lr_scale: float | None = None,
                       max_kimg: float | None = None) -> None:
        """Continue the open run; ``lr_scale`` multiplies its learning rates from there on and
        ``max_kimg`` moves its end."""
        if self.run is None or self.is_training():
            return
        self.stop_following()
        self.cfg = self.run.read_config()
        # the trainer truncates history after the checkpoint: rebuild the view from the folder
        self._launch(TrainingWorker(self.mailbox, str(self.run.path), resume=True, checkpoint=checkpoint,
                                    lr_scale=lr_scale, max_kimg=max_kimg))
        self.append_log(f"resuming {self.run.path}" + (f" with the learning rates ×{lr_scale:g}" if lr_scale else ""))

    def _launch(self, worker: TrainingWorker) -> None:
        self.worker = worker
        self.paused = False
        self.last_result = None
        worker.started_run.connect(self._on_started)
        worker.done.connect(self._on_done)
        self.thread = start_in_thread(worker, [worker.done])
        self.ui_timer.start()
        self._update_buttons()
        self.studio.state.set_training(True)
        self.training_state_changed.emit(True)

    def _on_started(self, run_dir: str) -> None:
        self.run = RunFolder(run_dir)
        self.cfg = self.run.read_config()
        self._total_kimg = total_kimg(self.cfg)
        if self.history.kimg:        # resumed: the folder now holds the truncated history
            self._reset_view()
            self._read_folder()
        self.studio.state.open_run(run_dir)
        self.run_opened.emit(run_dir)
        self._update_buttons()

    def _on_done(self, result) -> None:
        self._drain()
        self.last_result = result
        thread = self.thread
        self.thread, self.worker = None, None
        if thread is not None:
            thread.wait(5000)
        self.ui_timer.stop()
        self.paused = False
        # the same ending record the trainer wrote to metrics.jsonl (the log already has its words)
        if result.reason == "error":
            if result.error_kind is not None:     # the run failed, not only its start
                self.history.add_record({"kind": "event", "event": "failed", "kimg": result.kimg,
                                         "error": result.error, "error_kind": result.error_kind})
            self.append_log(f"ERROR: {result.error}")
            if result.error_kind == "nonfinite":
                self.blew_up.emit(result.error)
            else:
                self.error_occurred.emit(result.error)
        else:
            self.history.add_record({"kind": "event", "event": "finished", "reason": result.reason,
                                     "kimg": result.kimg})
        if self.cfg is not None:
            remember_throughput(self.cfg, self.history.throughput_by_resolution())
            self.studio.state.measured_throughput(throughput_key(self.cfg), self.history.throughput_by_resolution())
        self._update_buttons()
        self.studio.state.set_training(False)
        self.training_state_changed.emit(False)
        if self.queue is not None:
            if self.queue.ended(result):
                QTimer.singleShot(0, self._start_queued)      # after this slot: the thread is released
            else:
                self.append_log(f"queue stopped ({self.queue.summary()}): Start continues it")
                self._update_buttons()

    def toggle_pause(self) -> None:
        if not self.worker:
            return
        if self.paused:
            self.worker.control.resume()
        else:
            self.worker.control.pause()
        self.paused = not self.paused
        self._update_buttons()

    def stop(self) -> None:
        if self.worker:
            self.worker.control.request_stop()
            self.append_log("stopping at the next safe point…")

    def request_snapshot(self) -> None:
        if self.worker:
            self.worker.control.request_snapshot()

    def save_now(self) -> None:
        if self.worker:
            self.worker.control.request_checkpoint()

    def shutdown(self, timeout_s: float = 120.0) -> bool:
        """Stop at a safe point, let the trainer write its checkpoint, and wait for the thread (a
        queue's run is marked stopped: the queue continues from it later)."""
        self.stop_following()
        if not self.is_training():
            self._close_queue()
            return True
        self.stop()
        loop = QEventLoop()
        quit_when_stopped = lambda running: loop.quit() if not running else None  # noqa: E731
        self.training_state_changed.connect(quit_when_stopped)
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        if self.is_training():
            loop.exec()
        self.training_state_changed.disconnect(quit_when_stopped)
        stopped = not self.is_training()
        if stopped:
            self._close_queue()
        return stopped

    # -------------------------------------------------------------- live updates (GUI thread, ≤ 30 Hz)
    def _drain(self) -> None:
        d = self.mailbox.drain()
        if not d:
            return
        for tick in d.ticks:
            self.history.add_tick(tick.record)
        for record in d.metrics:
            self.history.add_record(record)
        for s in d.samples:
            self.samples.add_live_grid(s.path.name, s.grid)
            self.history.add_sample(SampleEntry(s.path.name, s.kimg, s.resolution, s.alpha, s.phase, s.path))
        for message in d.logs:
            self.append_log(message)
        for c in d.checkpoints:
            self.append_log(f"checkpoint written: {c.path.name}")
        if d.checkpoints:
            self.checkpoint_written.emit(str(d.checkpoints[-1].path))
        if d.snapshot is not None:
            self.snapshot_ready.emit(d.snapshot)
        if d.ticks and self.want_snapshots:
            self.request_snapshot()
        if d.paused is not None:
            self.paused = d.paused
            self.paused_kimg = d.paused_kimg if d.paused else None
            self._update_buttons()
        self._redraw()
        if d.ticks:
            last = d.ticks[-1]
            self._emit_status(last.record, last.eta_s)
            self.ticked.emit(last.record)
        if d.samples or d.ticks:
            self._update_buttons()

    def _redraw(self) -> None:
        if self.cfg is not None and self.cfg.augment == "ada":     # which signal p follows, from tick one
            self.history.ada_signal = self.cfg.ada_signal
        self.plots.refresh(self.history)
        self.samples.set_class_names(self.cfg.class_names if self.cfg is not None else None)
        self.samples.refresh(self.history)
        warning = self.history.warning()
        self.warning_label.setVisible(warning is not None)
        if warning is not None and warning != self.warning_label.text():
            self.warning_label.setText(warning)

    def _emit_status(self, record: dict, eta_s: float | None) -> None:
        status = dict(record)
        status["total_kimg"] = self._total_kimg
        status["family"] = self.cfg.arch if self.cfg is not None else None
        status["eta"] = format_duration(eta_s)
        self.status_changed.emit(status)

    # -------------------------------------------------------------- opened / followed runs
    def open_run(self, path: str) -> None:
        run = RunFolder(path)
        cfg = run.read_config()                  # raises RunFolderError with a clear message
        if self.is_training():
            raise RuntimeError("stop the current training before opening another run")
        self.stop_following()
        self._reset_view()
        self.log.clear()                         # the panel shows this run's log, not the last one's
        self.run, self.cfg = run, cfg
        self._total_kimg = total_kimg(cfg)
        self._read_folder()
        self._known_checkpoints = set(run.checkpoints())
        pid = run.active_trainer_pid()
        if pid is not None:
            self.following = True
            self.follow_timer.start()
            self.append_log(f"following {path}: process {pid} is training into it")
        else:
            self.append_log(f"opened {path}")
        self._update_buttons()
        self.studio.state.open_run(str(run.path))
        if self.cfg is not None:
            self.studio.state.measured_throughput(throughput_key(self.cfg), self.history.throughput_by_resolution())
        self.run_opened.emit(str(run.path))

    def add_metric_record(self, record: dict) -> None:
        """A metric another page wrote into this run's folder (MS-SWD or FID/KID from the Checkpoints page)."""
        self.history.add_record(record)
        self._redraw()

    def stop_following(self) -> None:
        self.follow_timer.stop()
        self.following = False

    def _read_log(self) -> None:
        """What the run's log.txt gained since last read (all of it when a run is opened), whole lines."""
        try:
            with open(self.run.log_path, "rb") as f:
                f.seek(self._log_offset)
                data = f.read()
        except OSError:
            return
        end = data.rfind(b"\n") + 1             # a line still being written waits for the next read
        if end:
            self._log_offset += end
            lines = data[:end].decode("utf-8", "replace").splitlines()
            self.log.appendPlainText("\n".join(lines[-self.log.maximumBlockCount():]))

    def _read_folder(self) -> bool:
        if not self.is_training():              # a trainer in this window sends its log lines as events
            self._read_log()
        records, self._metrics_offset = self.run.read_metrics(self._metrics_offset)
        entries, self._samples_offset = self.run.read_samples(self._samples_offset)
        for note in self.run.unusable_lines:        # foreign or damaged lines: say so, show the rest
            self.append_log(note)
        self.run.unusable_lines.clear()
        for r in records:
            self.history.add_record(r)
        for e in entries:
            self.history.add_sample(e)
        if records or entries:
            self._redraw()
            ticks = [r for r in records if r.get("kind") == "tick"]
            if ticks:
                t = ticks[-1]
                est = estimate_seconds(self.cfg, self.history.throughput_by_resolution(), t["kimg"])
                self._emit_status(t, est[0] if (est and self.following) else None)
                self.ticked.emit(t)
            self._update_buttons()
        return bool(records or entries)

    def _poll_folder(self) -> None:
        if self.run is None:
            return
        self._read_folder()
        checkpoints = set(self.run.checkpoints())
        new = sorted(checkpoints - self._known_checkpoints)
        self._known_checkpoints = checkpoints
        if new:                                  # the Checkpoints page lists what the other process wrote
            self.checkpoint_written.emit(str(new[-1]))
        if self.run.active_trainer_pid() is None:
            self._read_folder()
            self.stop_following()
            self.append_log("the other process stopped training this run")
            self._update_buttons()

    # -------------------------------------------------------------- exports
    def export_grid(self) -> None:
        grid = self.samples.view.array()
        if grid is None:
            return
        entry = self.samples.shown_entry()
        name = f"grid-{entry.kimg:.1f}kimg.png" if entry else "grid.png"
        path = save_file_name(self, "Export grid", name, "PNG image (*.png)")
        if path and self._exported(lambda: save_image(np.asarray(grid), path)):
            self.append_log(f"grid exported to {path}")

    def _exported(self, write) -> bool:
        """Run an export; a refusing disk is reported in a dialog and the log."""
        return exported(write, self.error_occurred.emit)

    def export_all_grids(self) -> None:
        folder = existing_directory(self, "Export every grid of the run into…")
        if not folder:
            return

        def copy_all():
            ensure_writable(folder)
            for e in self.history.samples:
                copy_file(e.path, Path(folder) / f"{e.kimg:09.3f}kimg-{e.resolution}px-{e.file}")
        if self._exported(copy_all):
            self.append_log(f"{len(self.history.samples)} grids exported to {folder}")

    def export_timelapse(self) -> None:
        from ...core.analysis.export import timelapse_frames, write_video
        path = save_file_name(self, "Export time-lapse", "timelapse.mp4",
                                              "MP4 video (*.mp4);;GIF (*.gif)")
        if not path:
            return
        try:
            frames = timelapse_frames(self.run)
            write_video(frames, path, fps=8)
        except (ValueError, OSError) as exc:
            self.error_occurred.emit(f"time-lapse failed: {exc}")
            return
        self.append_log(f"time-lapse of {len(frames)} grids written to {path}")

    def export_csv(self) -> None:
        path = save_file_name(self, "Export curves as CSV", "curves.csv", "CSV (*.csv)")
        if path and self._exported(lambda: write_atomic(path, self.history.to_csv())):
            self.append_log(f"curves exported to {path}")

    def export_curves_png(self) -> None:
        path = save_file_name(self, "Export curves as PNG", "curves.png", "PNG image (*.png)")
        if path and self._exported(lambda: write_atomic(path, png_bytes(self.plots.canvas.grab()))):
            self.append_log(f"curves image exported to {path}")
