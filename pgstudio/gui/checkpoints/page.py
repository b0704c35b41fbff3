"""Checkpoint manager: every checkpoint of the open run (and any added file) with thumbnails.

Reading checkpoints and rendering thumbnails happens in the render thread; a damaged or
foreign file is listed as damaged with its reason and never breaks the page.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QThread, Signal, Slot, QObject
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDoubleSpinBox, QHBoxLayout, QHeaderView,
                               QLabel, QMessageBox, QProgressBar, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from ...core.storage.checkpoint import CheckpointError, load_checkpoint
from ...core.analysis.export import export_generator, render
from ...core.data.images import make_grid
from ...core.analysis.latents import seeded_latents
from ...core.analysis.checkpoint_swd import DEFAULT_SEED
from ...core.models import generator_from_state, load_generator
from ...core.memory import release_freed_memory
from ...core.storage.records import SchedulePosition
from ...core.storage.runfolder import RunFolder, RunFolderError
from ..common.grid_view import GridView, to_qimage
from ..common.errors import report_error
from ..common.render_worker import RenderWorker
from ..common.workers import start_in_thread
from ..common.widgets import named
from ..common.file_dialogs import existing_directory, open_file_name

COLUMNS = ["", "file", "kimg", "res", "α", "phase", "D loss", "G loss", "MS-SWD", "FID / KID×1000", "size", "date",
           "status"]


@dataclass(kw_only=True)
class CheckpointInfo:
    path: Path
    ok: bool
    reason: str = ""
    error: str = ""                         # reading it raised: a bug, shown as "error: …" in its row
    kimg: float = 0.0
    resolution: int = 0
    alpha: float = 1.0
    phase: str = ""
    loss_d: float | None = None
    loss_g: float | None = None
    swd: float | None = None
    swd_floor: float | None = None          # the real-vs-real distance of the same recipe and n
    next_phase: str | None = None           # saved at a phase boundary: the phase resuming begins
    thumbnail: np.ndarray | None = None


def inspect_checkpoint(path: Path) -> CheckpointInfo:
    try:
        state = load_checkpoint(path)
        G = generator_from_state(state, path)
    except (CheckpointError, KeyError) as exc:
        return CheckpointInfo(path=path, ok=False, reason=str(exc).replace(f"{path}: ", ""))
    stats, where = state.get("stats", {}), SchedulePosition.of_checkpoint(state)
    thumb = make_grid(render(G, state["fixed_latents"][:4], where.level, where.alpha), cols=2, pad=1)
    # keywords only: a field added to CheckpointInfo later must not shift the others (the thumbnail
    # once landed in swd_floor, and every row that formatted it raised)
    return CheckpointInfo(path=path, ok=True, reason="", kimg=where.kimg, resolution=where.resolution,
                          alpha=where.alpha, phase=where.phase, loss_d=_number(stats.get("loss_d")),
                          loss_g=_number(stats.get("loss_g")), swd=_number(stats.get("swd")), thumbnail=thumb,
                          next_phase=_phase_resumed(state))


def _number(value) -> float | None:
    """A statistic from a checkpoint as a float (a tensor or numpy scalar saved by an older trainer too)."""
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _phase_resumed(state: dict) -> str | None:
    """The phase a resume from this checkpoint trains first, when it is not the one the checkpoint's
    last step trained (saved at a phase boundary, where the log already says the next phase)."""
    from ...core.config import TrainConfig
    from ...core.training.schedule import schedule_at
    try:
        cfg = TrainConfig.from_json(state["config"])
        nxt = schedule_at(cfg, int(state["images_seen"]))
    except (KeyError, TypeError, ValueError, StopIteration):
        return None
    if int(state.get("phase_index", nxt.phase_index)) == nxt.phase_index:
        return None
    return f"{nxt.resolution}×{nxt.resolution} {nxt.phase}"


SWD_SEED = DEFAULT_SEED      # the CLI's `pgstudio swd` default: the page and the command give the same number


class MetricWorker(QObject):
    """MS-SWD ("swd") or FID/KID ("fid") of one checkpoint, off the GUI thread."""
    progress = Signal(int, int)
    done = Signal(object, object)       # path, record or error string

    def __init__(self, path: Path, kind: str = "swd", n: int = 2048, floors: dict | None = None):
        super().__init__()
        self.path, self.kind, self.n = path, kind, n
        self.floors = floors            # MS-SWD floors already computed (the page's; one worker at a time)
        self.cancelled = False          # set from the GUI thread (Cancel, or the window closing)

    def cancel(self) -> None:
        self.cancelled = True

    def _progress(self, done: int, total: int) -> None:
        if self.cancelled:
            raise InterruptedError("cancelled")
        self.progress.emit(done, total)

    @Slot()
    def run(self) -> None:
        try:
            if self.kind == "fid":
                from ...core.analysis.checkpoint_fid import score_checkpoint_fid
                from ...core.training.device import resolve_device
                record = score_checkpoint_fid(self.path, self.n, SWD_SEED, device=resolve_device("auto"),
                                              progress=self._progress)
            else:
                from ...core.analysis.checkpoint_swd import score_checkpoint
                record = score_checkpoint(self.path, self.n, SWD_SEED, progress=self._progress, floors=self.floors)
            # the same record the trainer writes, plus where it came from (it differs from the trainer's
            # own: another n and seed, and it scores a checkpoint, not the generator at a tick)
            record.update({"source": "checkpoints_page", "checkpoint": self.path.name})
            self.done.emit(self.path, record)
        except InterruptedError:
            self.done.emit(self.path, "cancelled")
        except Exception as exc:
            self.done.emit(self.path, f"{type(exc).__name__}: {exc}")


class CompareDialog(QDialog):
    """Two checkpoints side by side on the same seeds and truncation."""

    def __init__(self, a: Path, b: Path, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Compare checkpoints")
        self.setObjectName("compare_dialog")
        self.gens = [load_generator(a), load_generator(b)]
        self.views = [GridView(min_size=240, whole_factors=False), GridView(min_size=240, whole_factors=False)]
        self.psi = QDoubleSpinBox()
        self.psi.setRange(0.0, 3.0)
        self.psi.setSingleStep(0.1)
        self.psi.setSpecialValueText("off")
        self.psi.valueChanged.connect(self.render)
        row = QHBoxLayout()
        for view, g in zip(self.views, self.gens):
            col = QVBoxLayout()
            col.addWidget(view, 1)
            col.addWidget(QLabel(f"{g.source.name} · {g.resolution}×{g.resolution} · {g.kimg:.1f} kimg"))
            row.addLayout(col)
        layout = QVBoxLayout(self)
        layout.addLayout(row, 1)
        psi_row = QHBoxLayout()
        psi_row.addWidget(QLabel("truncation ψ"))
        psi_row.addWidget(self.psi)
        psi_row.addStretch(1)
        layout.addLayout(psi_row)
        self.resize(900, 520)
        self.render()

    def render(self) -> None:
        if self.gens[0].generator.latent_size != self.gens[1].generator.latent_size:
            raise ValueError("the two checkpoints have different latent sizes")
        z = seeded_latents(list(range(16)), self.gens[0].generator.latent_size, self.psi.value() or None)
        for view, g in zip(self.views, self.gens):
            view.set_array(make_grid(render(g.generator, z, g.level, g.alpha), cols=4, pad=1))
            view.set_cell_labels([f"seed {i}" for i in range(16)], 4)


class CheckpointsPage(QWidget):
    open_in_explorer = Signal(str)
    resume_requested = Signal(str, bool, float)   # checkpoint path, branch into a new run folder, lr scale
    metric_recorded = Signal(dict)                # a record written to the open run's metrics.jsonl
    status = Signal(str)
    listed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.run: RunFolder | None = None
        self.extra: list[Path] = []
        self.infos: dict[str, CheckpointInfo] = {}
        self.swd_known: dict[float, tuple] = {}        # kimg → (MS-SWD, its floor or None)
        self.fid_known: dict[float, dict] = {}         # kimg → the newest "fid" record at it
        self._metric_thread: QThread | None = None      # one metric at a time
        self._metric_worker: MetricWorker | None = None
        self.refusal_box: QMessageBox | None = None      # shown when a delete is refused

        self.worker = RenderWorker()
        self.worker.rendered.connect(self._on_info)
        self.worker.failed.connect(self._on_info_failed)
        self.thread = start_in_thread(self.worker, [self.worker.finished_running])

        self.table = named(QTableWidget(0, len(COLUMNS)), "checkpoint_table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(68)
        self.table.setColumnWidth(0, 70)
        self.table.setColumnWidth(1, 170)
        for name in ("kimg", "res", "α"):            # short numbers: the status column stays in view at 1280 px
            self.table.setColumnWidth(COLUMNS.index(name), 56)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.cellDoubleClicked.connect(lambda r, c: self._open_selected())

        self.buttons = {}
        rows = []
        # three rows by purpose, each within the window's 780-pixel minimum: the files, continuing
        # (the learning-rate scale beside Resume and Branch, which it applies to), the metrics
        for group in ((("add", "Add checkpoint…"), ("refresh", "Refresh"), ("explore", "Open in explorer"),
                       ("compare", "Compare two"), ("export", "Export generator…"), ("delete", "Delete…")),
                      (("resume", "Resume from it"), ("branch", "Branch into new run…")),
                      (("swd", "Compute MS-SWD"), ("fid", "Compute FID/KID"))):
            row = QHBoxLayout()
            for key, text in group:
                b = QPushButton(text)
                b.setObjectName(f"ckpt_{key}")
                row.addWidget(b)
                self.buttons[key] = b
            if group[-1][0] == "branch":
                # for Resume and Branch: the way past a blow-up or a stall is lower learning rates
                row.addSpacing(12)
                row.addWidget(QLabel("resume with learning rates ×"))
                self.lr_scale = named(QDoubleSpinBox(), "resume_lr_scale")
                self.lr_scale.setRange(0.001, 1.0)
                self.lr_scale.setDecimals(3)
                self.lr_scale.setSingleStep(0.1)
                self.lr_scale.setValue(1.0)
                self.lr_scale.setToolTip("multiplies the run's learning rates from the resumed checkpoint on "
                                         "(recorded as lr_scale in config.json); 0.5 after a blow-up or a stall")
                row.addWidget(self.lr_scale)
            row.addStretch(1)
            rows.append(row)
        self.progress = named(QProgressBar(), "metric_progress")
        self.progress.setVisible(False)
        self.progress.setFormat("%p%  (%v of %m steps)")
        self.cancel_metric = named(QPushButton("Cancel"), "ckpt_metric_cancel")
        self.cancel_metric.setVisible(False)
        self.cancel_metric.clicked.connect(self._cancel_metric)
        self.swd_floors: dict = {}      # real-vs-real floors by reals, n and seed: computed once per page
        self.origin = named(QLabel(), "run_origin")       # where the open run's weights started
        self.origin.setWordWrap(True)
        self.origin.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.origin.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.origin)
        for row in rows:
            layout.addLayout(row)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_metric)
        layout.addLayout(progress_row)
        layout.addWidget(self.table, 1)

        b = self.buttons
        b["add"].clicked.connect(self._add_dialog)
        b["refresh"].clicked.connect(self.refresh)
        b["explore"].clicked.connect(self._open_selected)
        b["resume"].clicked.connect(lambda: self._resume(False))
        b["branch"].clicked.connect(lambda: self._resume(True))
        b["compare"].clicked.connect(self._compare)
        b["swd"].clicked.connect(self._compute_swd)
        b["fid"].clicked.connect(self._compute_fid)
        b["export"].clicked.connect(self._export)
        b["delete"].clicked.connect(self._delete)
        self._update_buttons()

    # -------------------------------------------------------------- listing
    def set_run(self, path: str | None) -> None:
        self.run = RunFolder(path) if path else None
        self.refresh()

    def paths(self) -> list[Path]:
        own = self.run.checkpoints() if self.run else []
        return own + [p for p in self.extra if p not in own]

    def _show_origin(self) -> None:
        """The open run's starting point, from its config.json (a run from scratch says nothing)."""
        from ...core.training.transfer import describe
        text = ""
        if self.run is not None:
            try:
                cfg = self.run.read_config()
            except RunFolderError:     # a folder without a readable config lists its checkpoints anyway
                cfg = None
            if cfg is not None and cfg.start_from:
                text = f"This run {describe(cfg.start_from, cfg.freeze_d)}: {cfg.start_from.get('path')}"
        self.origin.setText(text)
        self.origin.setVisible(bool(text))

    def refresh(self) -> None:
        self.swd_known, self.fid_known = {}, {}
        self._show_origin()
        if self.run is not None:
            for r in self.run.read_metrics()[0]:
                if r.get("kind") == "swd":
                    self.swd_known[round(r["kimg"], 3)] = (r["mean"], r.get("floor"))
                elif r.get("kind") == "fid" and "fid" in r:
                    self.fid_known[round(r["kimg"], 3)] = r
        paths = self.paths()
        self.table.setRowCount(len(paths))
        reading = 0
        for i, p in enumerate(paths):
            info = self.infos.get(str(p))
            stamp = p.stat().st_mtime if p.exists() else 0
            if info is not None and getattr(info, "_stamp", None) == stamp:
                self._fill_row(i, info)
                continue
            reading += 1
            self._fill_row(i, CheckpointInfo(path=p, ok=True, reason="reading…"))
            self.worker.submit(f"info:{p}", lambda p=p, stamp=stamp: (inspect_checkpoint(p), stamp))
        self._update_buttons()
        if not reading:                  # every row filled already (none, or all known and unchanged)
            self.listed.emit()

    def _on_info(self, kind: str, result, seconds: float, number: int = 0) -> None:
        if not kind.startswith("info:") or (number and not self.worker.is_newest(kind, number)):
            return                   # another page's kind, or the file changed and is being read again
        info, stamp = result
        info._stamp = stamp
        self.infos[str(info.path)] = info
        paths = [str(p) for p in self.paths()]
        if str(info.path) in paths:
            self._fill_row(paths.index(str(info.path)), info)
        if all(p in self.infos for p in paths):
            self.listed.emit()
        self._update_buttons()

    def _on_info_failed(self, kind: str, message: str) -> None:
        """Reading a checkpoint raised (a bug, not a damaged file): its row says so instead of
        staying on "reading…" (the render worker has reported the error to the window)."""
        if not kind.startswith("info:"):
            return
        path = Path(kind[len("info:"):])
        try:
            stamp = path.stat().st_mtime
        except OSError:
            stamp = 0
        self._on_info(kind, (CheckpointInfo(path=path, ok=False, error=message), stamp), 0.0)

    def _fill_row(self, row: int, info: CheckpointInfo) -> None:
        try:
            self._fill_row_values(row, info)
        except Exception as exc:          # a row that cannot be shown says why, and the window hears of it
            message = report_error(f"checkpoint row {info.path.name}", exc)
            self._fill_row_values(row, CheckpointInfo(path=info.path, ok=False, error=message))

    @staticmethod
    def status_text(info: CheckpointInfo) -> str:
        if info.error:
            return f"error: {info.error}"
        if not info.ok:
            return f"damaged: {info.reason}"
        return info.reason or "ok"

    def _fill_row_values(self, row: int, info: CheckpointInfo) -> None:
        p = info.path
        try:
            st = p.stat()
            size, date = f"{st.st_size / 2**20:.1f} MB", datetime.datetime.fromtimestamp(st.st_mtime).strftime("%Y-%m-%d %H:%M")
        except OSError:
            size, date = "", ""
        known_swd, known_floor = self.swd_known.get(round(info.kimg, 3), (None, None))
        swd = info.swd if info.swd is not None else known_swd
        floor = info.swd_floor if info.swd_floor is not None else known_floor
        swd_text = _fmt(swd) + (f" (floor {floor:.2f})" if swd is not None and floor is not None else "")
        fid = self.fid_known.get(round(info.kimg, 3)) if info.ok and not info.reason else None
        fid_text = "" if fid is None else (f"{fid['fid']:.1f} / {1000 * fid['kid']:.1f} (floor {fid['floor_fid']:.1f} / "
                                           f"{1000 * fid['floor_kid']:.1f}, n={fid['n']})")
        values = ["", p.name, f"{info.kimg:.1f}" if info.ok and not info.reason else "",
                  f"{info.resolution}" if info.resolution else "", f"{info.alpha:.2f}" if info.resolution else "",
                  info.phase + (f" → {info.next_phase}" if info.next_phase else ""),
                  _fmt(info.loss_d), _fmt(info.loss_g), swd_text, fid_text, size, date, self.status_text(info)]
        for col, v in enumerate(values):
            item = QTableWidgetItem(v)
            item.setData(Qt.UserRole, str(p))
            if not info.ok:
                item.setForeground(Qt.red)
            self.table.setItem(row, col, item)
        label = QLabel()
        if info.thumbnail is not None:
            label.setPixmap(QPixmap.fromImage(to_qimage(info.thumbnail)).scaled(64, 64, Qt.KeepAspectRatio,
                                                                                  Qt.FastTransformation))
        self.table.setCellWidget(row, 0, label)

    def row_status(self, row: int) -> str:
        return self.table.item(row, len(COLUMNS) - 1).text()

    # -------------------------------------------------------------- selection
    def selected_paths(self) -> list[Path]:
        rows = sorted({i.row() for i in self.table.selectedItems()})
        return [Path(self.table.item(r, 1).data(Qt.UserRole)) for r in rows if self.table.item(r, 1)]

    def _selected_ok(self) -> list[Path]:
        return [p for p in self.selected_paths() if self.infos.get(str(p)) is not None and self.infos[str(p)].ok]

    def _update_buttons(self) -> None:
        ok = self._selected_ok()
        sel = self.selected_paths()
        own = set(self.run.checkpoints()) if self.run else set()
        b = self.buttons
        b["explore"].setEnabled(len(ok) == 1)
        b["resume"].setEnabled(len(ok) == 1 and ok[0] in own)
        b["branch"].setEnabled(len(ok) == 1)
        b["compare"].setEnabled(len(ok) == 2)
        b["swd"].setEnabled(len(ok) == 1 and self._metric_thread is None)
        from ...core.analysis import inception
        have_inception = inception.available()
        b["fid"].setEnabled(have_inception and len(ok) == 1 and self._metric_thread is None)
        b["fid"].setToolTip("FID and KID (with their real-vs-real floors) on Inception features; minutes on a CPU"
                            if have_inception else inception.INSTALL_HINT)
        b["export"].setEnabled(len(ok) == 1)
        b["delete"].setEnabled(len(sel) >= 1)

    # -------------------------------------------------------------- actions
    def _add_dialog(self) -> None:
        path = open_file_name(self, "Add a checkpoint", "Checkpoints (*.pt);;All files (*)")
        if path:
            self.add_path(path)

    def add_path(self, path: str) -> None:
        p = Path(path)
        if p not in self.extra:
            self.extra.append(p)
        self.refresh()

    def _open_selected(self) -> None:
        ok = self._selected_ok()
        if len(ok) == 1:
            self.open_in_explorer.emit(str(ok[0]))

    def _resume(self, branch: bool) -> None:
        ok = self._selected_ok()
        if len(ok) == 1:
            self.resume_requested.emit(str(ok[0]), branch, self.lr_scale.value())

    def _compare(self) -> None:
        ok = self._selected_ok()
        if len(ok) != 2:
            return
        try:
            dlg = CompareDialog(ok[0], ok[1], self)
        except (CheckpointError, ValueError) as exc:
            self.status.emit(str(exc))
            return
        self.compare_dialog = dlg
        dlg.show()

    def _compute_swd(self) -> None:
        self._compute("swd")

    def _compute_fid(self) -> None:
        self._compute("fid")

    def _compute(self, kind: str) -> None:
        ok = self._selected_ok()
        if len(ok) != 1 or self._metric_thread is not None:
            return
        worker = MetricWorker(ok[0], kind, floors=self.swd_floors)
        worker.progress.connect(self._metric_progress)  # a method: runs in the GUI thread (a lambda would not)
        worker.done.connect(self._metric_done)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.cancel_metric.setVisible(True)
        self.cancel_metric.setEnabled(True)
        if kind == "fid":
            self.status.emit(f"FID/KID of {ok[0].name}: Inception features of the reals (cached after the first "
                             "time) and of the fakes — minutes on a CPU")
        self._metric_worker = worker
        self._metric_thread = start_in_thread(worker, [worker.done])
        self._update_buttons()

    def _metric_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _cancel_metric(self) -> None:
        """Stop the score at its next step (a rendering batch or a chunk of descriptors: seconds)."""
        if self._metric_worker is not None:
            self._metric_worker.cancel()
            self.cancel_metric.setEnabled(False)
            self.status.emit("cancelling: the score stops at its next step")

    def _metric_done(self, path, record) -> None:
        kind = self._metric_worker.kind if self._metric_worker is not None else "swd"
        self._metric_thread = self._metric_worker = None
        self.progress.setVisible(False)
        self.cancel_metric.setVisible(False)
        release_freed_memory()           # the score's descriptor sets: back to the system, not kept
        if record == "cancelled":
            self.status.emit(f"{'FID/KID' if kind == 'fid' else 'MS-SWD'} of {Path(path).name} cancelled: "
                             "nothing was recorded")
        elif isinstance(record, str):
            self.status.emit(f"{'FID/KID' if kind == 'fid' else 'MS-SWD'} failed: {record}")
        elif record["kind"] == "fid":
            saved = self._record_metric(Path(path), record)
            self.fid_known[round(record["kimg"], 3)] = record
            self.status.emit(f"FID of {Path(path).name}: {record['fid']:.2f} (floor {record['floor_fid']:.2f}), "
                             f"KID×1000 {1000 * record['kid']:.2f} (floor {1000 * record['floor_kid']:.2f}), "
                             f"n={record['n']}{saved}")
            self.refresh()
        else:
            info = self.infos.get(str(path))
            if info is not None:
                info.swd, info.swd_floor = record["mean"], record.get("floor")
            saved = self._record_metric(Path(path), record)
            self.status.emit(f"MS-SWD ×1000 of {Path(path).name}: {record['mean']:.2f} "
                             f"(floor {record['floor']:.2f}, n={record['n']}){saved}")
            self.refresh()
        self._update_buttons()

    def _record_metric(self, path: Path, record: dict) -> str:
        """Every number the studio computes is a record in the run folder: a metric of one of the
        open run's checkpoints goes into its metrics.jsonl (one appended line, like the trainer's),
        unless another process holds the folder. Returns what to add to the status message."""
        if self.run is None or path not in self.run.checkpoints():
            return ""
        why_not = self.run.append_score(record)
        if why_not:
            return f" — not saved to the run: {why_not}"
        self.metric_recorded.emit(dict(record))
        return " — saved to the run"

    def _export(self) -> None:
        ok = self._selected_ok()
        if len(ok) != 1:
            return
        folder = existing_directory(self, "Export the generator into…")
        if folder:
            try:
                out = export_generator(load_generator(ok[0]), folder)
            except (OSError, CheckpointError) as exc:     # a refusing disk, a file damaged since listing
                self.status.emit(f"export failed: {exc}")
                return
            self.status.emit(f"generator exported to {out}")

    def _delete(self) -> None:
        sel = self.selected_paths()
        if not sel:
            return
        own = set(self.run.checkpoints()) if self.run else set()
        holder = self.run.active_trainer_pid() if self.run is not None else None
        if holder is not None and any(p in own for p in sel):
            # its trainer may resume from (or fall back to) any of them: the folder is not ours to edit
            message = (f"Nothing was deleted: {self.run.path} is being trained by process {holder}, "
                       "which may resume from or fall back to these checkpoints. Stop that training first.")
            self.status.emit(message)
            box = QMessageBox(QMessageBox.Warning, "Delete checkpoints", message, QMessageBox.Ok, self)
            box.setObjectName("delete_refused")
            box.open()              # not exec(): the window stays live while it is shown
            self.refusal_box = box
            return
        answer = QMessageBox.question(self, "Delete checkpoints",
                                      "Delete these files?\n" + "\n".join(p.name for p in sel),
                                      QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        if answer != QMessageBox.Yes:
            return
        for p in sel:
            try:
                p.unlink(missing_ok=True)
            except OSError as exc:
                self.status.emit(f"could not delete {p.name}: {exc.strerror or exc}")
                continue
            self.extra = [e for e in self.extra if e != p]
            self.infos.pop(str(p), None)
        self.refresh()

    def shutdown(self) -> None:
        self.worker.stop()
        self.thread.wait(10000)
        if self._metric_thread is not None:
            self._metric_worker.cancel()          # stops at its next batch of images
            self._metric_thread.wait(60000)


def _fmt(v) -> str:
    return "" if v is None else f"{v:.3f}"
