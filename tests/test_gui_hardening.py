"""The studio under bad run folders and a second trainer, driven through its widgets."""
import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.training.trainer import Trainer
from tests.conftest import tiny_config
from tests.test_gui import click
from tests.test_hardening import hold_lock


@pytest.fixture(scope="module")
def finished(tmp_path_factory, shapes_folder):
    out = tmp_path_factory.mktemp("guihard") / "run"
    assert Trainer.new(out, tiny_config(shapes_folder, max_kimg=0.3, checkpoint_kimg=0.128)).run().reason == "max_kimg"
    return out


@pytest.fixture
def run_copy(finished, tmp_path):
    shutil.copytree(finished, tmp_path / "run")
    return tmp_path / "run"


def select_row(qtbot, table, row):
    rect = table.visualItemRect(table.item(row, 2))
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())


def first_checkpoint_selected(qtbot, window, run):
    """The Checkpoints page showing ``run``, its oldest checkpoint selected by a click."""
    page = window.checkpoints_page
    with qtbot.waitSignal(page.listed, timeout=20000):
        window.open_run(str(run))
    window.tabs.setCurrentWidget(page)
    select_row(qtbot, page.table, 0)
    return page, RunFolder(run).checkpoints()[0]


def test_open_run_with_foreign_and_torn_lines(qtbot, window, run_copy):
    run = RunFolder(run_copy)
    good = [r for r in run.read_metrics()[0] if r["kind"] == "tick"]
    with open(run.metrics_path, "ab") as f:
        f.write(b'42\n{"kind": "tick", "loss_d": 0.5, "loss_g": 0.5}\n{"kind": "tick", "kimg": 7.0, "res')
    window.open_run(str(run_copy))
    page = window.training_page
    assert window.error_box is None                                   # no dialog: the rest is shown
    assert page.history.kimg == [r["kimg"] for r in good]
    log = page.log.toPlainText()
    assert "not a JSON object" in log and "tick without a valid kimg" in log
    assert run.metrics_path.read_bytes().endswith(b'"res')            # a reader never cuts the tail
    assert page.start_button.text() == "Continue"                     # it had reached its kimg limit


def test_a_stalled_run_shows_a_warning_banner(qtbot, window, tmp_path, shapes_folder):
    out = tmp_path / "stalled"
    Trainer.new(out, tiny_config(shapes_folder, lr_default=1e-30, max_kimg=0.2)).run()
    window.open_run(str(out))
    banner = window.training_page.warning_label
    assert banner.isVisible()
    assert banner.text().startswith("⚠ The discriminator and the generator stopped learning at 0.06 kimg")
    assert "their weights" in banner.text() and "--lr-scale 0.5" in banner.text()
    window.training_page.open_run(str(tmp_path / "stalled"))         # rebuilt the same from the folder
    assert banner.isVisible()


def test_a_healthy_run_has_no_banner(qtbot, window, run_copy):
    window.open_run(str(run_copy))
    assert not window.training_page.warning_label.isVisible()


def test_checkpoints_page_respects_another_trainers_lock(qtbot, window, run_copy, monkeypatch):
    page = window.checkpoints_page
    proc = hold_lock(run_copy)
    try:
        with qtbot.waitSignal(page.listed, timeout=20000):
            window.open_run(str(run_copy))
        assert window.training_page.following                   # the live holder is followed, read-only
        window.tabs.setCurrentWidget(page)
        before = RunFolder(run_copy).checkpoints()
        select_row(qtbot, page.table, 0)
        asked = []
        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.Yes)
        click(qtbot, page.buttons["delete"])
        qtbot.waitUntil(lambda: page.refusal_box is not None and page.refusal_box.isVisible(), timeout=5000)
        assert f"process {proc.pid}" in page.refusal_box.text() and not asked
        assert RunFolder(run_copy).checkpoints() == before         # nothing deleted
        page.refusal_box.close()
        select_row(qtbot, page.table, 0)
        click(qtbot, page.buttons["resume"])
        qtbot.waitUntil(lambda: window.error_box is not None and window.error_box.isVisible(), timeout=5000)
        assert f"being trained by process {proc.pid}" in window.error_box.text()
        assert not window.training_page.is_training()
        window.error_box.close()
    finally:
        proc.kill()
        proc.wait()
    qtbot.waitUntil(lambda: not window.training_page.following, timeout=10000)
    # the holder is gone: deleting works again
    select_row(qtbot, page.table, 0)
    click(qtbot, page.buttons["delete"])
    assert asked and len(RunFolder(run_copy).checkpoints()) == len(before) - 1


def test_resume_an_earlier_checkpoint_with_lower_learning_rates(qtbot, window, run_copy):
    page, first = first_checkpoint_selected(qtbot, window, run_copy)
    page.lr_scale.selectAll()
    qtbot.keyClicks(page.lr_scale, "0.5")
    qtbot.keyClick(page.lr_scale, Qt.Key_Tab)
    assert page.lr_scale.value() == 0.5
    with qtbot.waitSignal(window.training_page.training_state_changed, timeout=10000):
        click(qtbot, page.buttons["resume"])
    training = window.training_page
    qtbot.waitUntil(lambda: not training.is_training(), timeout=60000)
    assert training.last_result.reason == "max_kimg"
    run = RunFolder(run_copy)
    assert run.read_config().lr_scale == 0.5
    assert f"resumed from {first.name}" in run.log_path.read_text()
    lrs = [r["lr"] for r in run.read_metrics()[0] if r["kind"] == "tick" and r["kimg"] > int(first.stem[5:]) / 1000]
    assert lrs and all(lr == pytest.approx(0.001) for lr in lrs)


def test_cyclic_garbage_is_collected_in_the_gui_thread(qtbot, window):
    """Qt objects must never be freed by a collection in the trainer thread (a deadlock): the
    window turns automatic collection off and collects on a timer in the GUI thread."""
    import gc
    import threading
    import weakref
    assert not gc.isenabled()
    freed_in = []

    class Cycle:
        def __del__(self):
            freed_in.append(threading.current_thread().name)
    a, b = Cycle(), Cycle()
    a.other, b.other = b, a
    probe = weakref.ref(a)
    del a, b
    kept = [[i] for i in range(5 * gc.get_threshold()[0])]      # live containers: past the gen-0 threshold
    qtbot.waitUntil(lambda: probe() is None, timeout=5000)
    del kept
    assert set(freed_in) == {threading.main_thread().name}


def test_exports_to_a_read_only_folder_say_so(qtbot, window, run_copy, tmp_path, monkeypatch):
    """The studio's exports go through the one write path: a refusing disk is a message, not a traceback."""
    import errno
    from pathlib import Path
    from PySide6.QtWidgets import QFileDialog
    from pgstudio.core.storage import disk
    target = tmp_path / "ro"
    target.mkdir()
    real_open = disk.open_for_write

    def refuse(path, mode="wb"):
        if Path(path).parent == target:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, mode)
    monkeypatch.setattr(disk, "open_for_write", refuse)
    window.open_run(str(run_copy))
    page = window.training_page
    errors = []
    page.error_occurred.connect(errors.append)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target / "x.png"), ""))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(target))
    for button in (page.export_grid_button, page.export_csv_button, page.export_png_button,
                   page.export_all_button):
        click(qtbot, button)
    assert len(errors) == 4 and all("the file system is read-only" in e for e in errors), errors
    assert not list(target.iterdir())


def wheel(widget, steps: int = -1) -> None:
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(centre, widget.mapToGlobal(centre), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_changes_a_field_only_once_it_has_focus(qtbot, window):
    form = window.setup_form
    window.resize(1280, 720)
    window.tabs.setCurrentIndex(0)
    window.setFocus()
    before = (form.loss.currentText(), form.latent.value(), form.lr.value())
    for w in (form.loss, form.latent, form.lr):
        assert not w.hasFocus()
        wheel(w)
    assert (form.loss.currentText(), form.latent.value(), form.lr.value()) == before
    view = form.schedule_plot.getViewBox()
    ranges = view.viewRange()
    wheel(form.schedule_plot.viewport())
    assert view.viewRange() == ranges                       # the preview neither zooms nor pans
    form.latent.setFocus()
    qtbot.waitUntil(form.latent.hasFocus, timeout=2000)
    wheel(form.latent, steps=1)
    assert form.latent.value() == before[1] + 1             # a focused field takes the wheel as usual


def test_run_states_say_what_they_are_and_continue_extends_a_completed_run(qtbot, window, run_copy, tmp_path,
                                                                           shapes_folder, monkeypatch):
    import json
    page = window.training_page
    window.open_run(str(run_copy))
    assert page.state_label.text().startswith("reached the run's kimg limit at 0.304 kimg — Continue trains it further")
    assert page.start_button.text() == "Continue" and page.more_kimg.isVisible()
    page.more_kimg.selectAll()
    qtbot.keyClicks(page.more_kimg, "0.1")
    qtbot.keyClick(page.more_kimg, Qt.Key_Tab)
    with qtbot.waitSignal(page.training_state_changed, timeout=10000, check_params_cb=lambda running: not running):
        click(qtbot, page.start_button)
    assert page.last_result.reason == "max_kimg" and page.last_result.kimg >= 0.4
    assert RunFolder(run_copy).read_config().max_kimg == pytest.approx(0.404)
    assert page.state_label.text().startswith("reached the run's kimg limit at 0.416 kimg")
    log = RunFolder(run_copy).log_path.read_text()
    assert log.count("reached the run's kimg limit at 0.416 kimg") == 1 and "max_kimg at" not in log
    # a folder from before ending records: completed when its newest checkpoint reached the end
    old = tmp_path / "old"
    Trainer.new(old, tiny_config(shapes_folder)).run()
    lines = [line for line in (old / "metrics.jsonl").read_text().splitlines() if '"finished"' not in line]
    (old / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    window.open_run(str(old))
    assert page.state_label.text().startswith("training complete at 0.768 kimg (the end of its schedule)")
    # a failed run says so when reopened; a stopped one offers Resume
    failed = tmp_path / "failed"
    from tests.conftest import poison_generator_loss
    real = poison_generator_loss(monkeypatch, from_call=20)
    assert Trainer.new(failed, tiny_config(shapes_folder, checkpoint_kimg=0.064)).run().reason == "error"
    from pgstudio.core.training import losses
    monkeypatch.setattr(losses, "generator_loss", real)
    window.open_run(str(failed))
    assert page.state_label.text().startswith("failed at ") and "non-finite generator loss" in page.state_label.text()
    assert page.start_button.text() == "Resume"
    events = [json.loads(l) for l in (failed / "metrics.jsonl").read_text().splitlines() if '"failed"' in l]
    assert events and events[-1]["error_kind"] == "nonfinite"


def test_ms_swd_from_the_checkpoints_page_is_a_record_of_the_run(qtbot, window, run_copy):
    page, first = first_checkpoint_selected(qtbot, window, run_copy)
    messages = []
    page.status.connect(messages.append)
    click(qtbot, page.buttons["swd"])
    qtbot.waitUntil(lambda: any("MS-SWD ×1000" in m for m in messages), timeout=60000)
    assert messages[-1].endswith("saved to the run")
    records = [r for r in RunFolder(run_copy).read_metrics()[0] if r["kind"] == "swd"]
    assert len(records) == 1 and records[0]["source"] == "checkpoints_page"
    assert records[0]["checkpoint"] == first.name and {"n", "seed", "floor", "levels"} <= set(records[0])
    kimg = RunFolder.checkpoint_images(first) / 1000
    assert window.training_page.history.swd_kimg == [kimg]            # plotted at once
    window.open_run(str(run_copy))                                    # and after reopening
    assert window.training_page.history.swd_kimg == [kimg]
    qtbot.waitUntil(lambda: page.table.item(0, 8) is not None and page.table.item(0, 8).text() != "", timeout=20000)
    mean, floor = page.table.item(0, 8).text().split(" (floor ")     # the floor, kept with it
    assert float(mean) == pytest.approx(records[0]["mean"], abs=1e-3)
    assert float(floor.rstrip(")")) == pytest.approx(records[0]["floor"], abs=1e-2)


def test_alpha_and_resolution_are_drawn_as_the_schedule_has_them(qtbot, window, tmp_path, shapes_folder):
    import numpy as np
    out = tmp_path / "grown"
    Trainer.new(out, tiny_config(shapes_folder)).run()
    window.open_run(str(out))
    plots = window.training_page.plots
    ax, ay = plots.curve_alpha.getData()
    growth = [s for s in window.training_page.history.phase_spans() if s.kind == "fade"][0]
    at = np.flatnonzero(np.isclose(ax, growth.start_kimg))
    assert list(ay[at]) == [1.0, 0.0]                # a drop where the fade begins, not a slide
    rx, ry = plots.curve_res.getData()
    assert plots.curve_res.opts["stepMode"] == "center"
    assert len(rx) == len(window.training_page.history.kimg) + 1 and set(ry) == {2.0, 3.0}
    one = tmp_path / "one"
    Trainer.new(one, tiny_config(shapes_folder, max_kimg=0.064)).run()
    window.open_run(str(one))
    assert len(window.training_page.history.kimg) == 1
    assert plots.curve_d.opts["symbol"] == "o"      # a lone point is drawn as a marker


def test_a_checkpoint_at_a_phase_boundary_says_what_resuming_trains(qtbot, window, run_copy):
    """The 0.256-kimg checkpoint was saved after the last 4x4 stabilize step, where the log already
    says the fade begins: its phase says both."""
    page, _ = first_checkpoint_selected(qtbot, window, run_copy)
    names = [p.name for p in RunFolder(run_copy).checkpoints()]
    row = names.index("ckpt-0000000256.pt")
    qtbot.waitUntil(lambda: page.table.item(row, 5) is not None and page.table.item(row, 5).text() != "", timeout=20000)
    assert page.table.item(row, 5).text() == "stabilize → 8×8 fade"
    assert page.table.item(names.index("ckpt-0000000128.pt"), 5).text() == "stabilize"
    assert "growing to 8x8 (fade) at 0.256 kimg" in (run_copy / "log.txt").read_text()
