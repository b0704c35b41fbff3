"""What a newcomer met in the first ten minutes (issue #26), each through the widgets or the CLI.
The journeys in tests/journeys/ cover the Checkpoints rows, Ctrl+Return, the start size, the
last-grid strip, following a headless run and closing mid-read; the rest is here."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from pgstudio.cli import main as cli_main
from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.training.trainer import Trainer
from tests.conftest import draw_shapes, tiny_config
from tests.test_gui import choose_demo_tiny, click


# ---------------------------------------------------------------- 1: nothing fails silently
@pytest.mark.reports_errors
def test_a_checkpoint_row_that_cannot_be_read_says_error_and_the_window_hears_it(qtbot, window, progressive_run,
                                                                                 monkeypatch):
    """A bug while reading one checkpoint: its row says "error: …" (not a blank row or "reading…"
    forever), the other rows fill, and the log panel and the status bar carry the message."""
    from pgstudio.gui.checkpoints import page as page_module
    from pgstudio.gui.common.errors import reported_errors
    real = page_module.inspect_checkpoint
    broken = RunFolder(progressive_run).checkpoints()[2]

    def inspect(path):
        if path == broken:
            raise TypeError("unsupported format string passed to numpy.ndarray.__format__")
        return real(path)
    monkeypatch.setattr(page_module, "inspect_checkpoint", inspect)
    page = window.checkpoints_page
    with qtbot.waitSignal(page.listed, timeout=30000):
        window.open_run(str(progressive_run))
    statuses = [page.row_status(r) for r in range(page.table.rowCount())]
    assert statuses[2] == "error: TypeError: unsupported format string passed to numpy.ndarray.__format__"
    assert all(s == "ok" for i, s in enumerate(statuses) if i != 2)
    qtbot.waitUntil(lambda: "unsupported format string" in window.training_page.log.toPlainText(), timeout=5000)
    assert "unsupported format string" in window.statusBar().currentMessage()
    assert any("unsupported format string" in m for _, m in reported_errors())
    assert "unsupported format string" in RunFolder(progressive_run).log_path.read_text()   # in log.txt too


def test_the_suite_fails_on_errors_qt_warnings_and_dying_threads():
    """In a child pytest with this suite's configuration: an error reported to the user, a Qt
    warning and a thread that dies of an exception each fail their test; a quiet test passes."""
    code = (
        "import threading\n"
        "def test_reports(qtbot):\n"
        "    from pgstudio.gui.common.errors import error_hub, report_error\n"
        "    error_hub()\n"
        "    report_error('a worker', ValueError('boom'))\n"
        "def test_warns(qtbot):\n"
        "    from PySide6.QtCore import qWarning\n"
        "    qWarning('pgstudio: a connection to a deleted object')\n"
        "def test_thread_dies():\n"
        "    t = threading.Thread(target=lambda: 1 / 0)\n"
        "    t.start()\n"
        "    t.join()\n"
        "def test_quiet(qtbot):\n"
        "    pass\n")
    folder = Path(__file__).parent / "_probe_silent_errors"
    folder.mkdir(exist_ok=True)
    try:
        (folder / "test_probe.py").write_text(code)
        (folder / "__init__.py").write_text("")
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
                           capture_output=True, text=True, cwd=Path(__file__).parents[1],
                           env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), timeout=300)
    finally:
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
    # the reported error fails the test in its teardown (an "error"), the other two in their call
    assert r.returncode == 1 and "2 failed, 2 passed, 1 error" in r.stdout, r.stdout[-1500:]
    for outcome in ("ERROR tests/_probe_silent_errors/test_probe.py::test_reports",
                    "FAILED tests/_probe_silent_errors/test_probe.py::test_warns",
                    "FAILED tests/_probe_silent_errors/test_probe.py::test_thread_dies"):
        assert outcome in r.stdout
    assert "the studio reported errors during this test" in r.stdout and "a worker: ValueError: boom" in r.stdout
    assert "a connection to a deleted object" in r.stdout and "ZeroDivisionError" in r.stdout


# ---------------------------------------------------------------- 6: switching architecture
def test_switching_the_architecture_keeps_every_edit_and_names_what_changed(qtbot, window):
    f = window.setup_form
    f.preset.setCurrentIndex(f.preset.findData("paper"))
    f.stabilize.setValue(7)
    f.tick.setValue(0.5)
    f.sample.setValue(3)
    f.checkpoint.setValue(11)
    f.arch.setCurrentIndex(f.arch.findData("stylegan2"))
    assert (f.stabilize.value(), f.tick.value(), f.sample.value(), f.checkpoint.value()) == (7, 0.5, 3, 11)
    note = f.preset_note.text()
    assert f.preset_note.isVisible() and "kept your" in note and "stabilize_kimg (7.0)" in note
    assert "loss wgan-gp → logistic" in note and f.loss.currentText() == "logistic"      # what had to change
    # an edited value the other family's preset also sets differently stays as typed
    f.loss.setCurrentText("hinge")
    f.arch.setCurrentIndex(f.arch.findData("progressive"))
    assert f.loss.currentText() == "hinge" and "loss (hinge)" in f.preset_note.text()
    # choosing a preset is asking for its values: all of them
    f.preset.setCurrentIndex(f.preset.findData("laptop"))
    assert f.stabilize.value() != 7 and not f.preset_note.isVisible()


# ---------------------------------------------------------------- 7: remembered places
def test_the_data_folder_and_each_dialogs_folder_are_remembered(qtbot, window, shapes_folder, tmp_path, monkeypatch):
    from pgstudio.gui.main_window import MainWindow
    asked = []

    def choose(parent, caption, start=""):
        asked.append((caption, start))
        return str(shapes_folder)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", choose)
    panel = window.dataset_panel
    with qtbot.waitSignal(panel.dataset_ready, timeout=30000):
        click(qtbot, panel.choose_button)
    assert asked[-1][1] == os.path.expanduser("~")         # a first dialog: home, not where the process started
    window.close()
    w2 = MainWindow()
    qtbot.addWidget(w2)
    w2.show()
    panel2 = w2.dataset_panel
    assert panel2.last_button.isVisible() and shapes_folder.name in panel2.last_button.text()
    with qtbot.waitSignal(panel2.dataset_ready, timeout=30000):
        click(qtbot, panel2.last_button)
    assert panel2.source == str(shapes_folder) and len(panel2.dataset) == 96
    click(qtbot, panel2.choose_button)
    assert asked[-1] == ("Choose a folder of images", str(shapes_folder.parent))     # beside the last one
    # a save dialog opens where that dialog last saved
    saves = []
    (tmp_path / "out").mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda parent, caption, start, flt: (saves.append(start), str(tmp_path / "out" / "c.csv"))[1:]
                        + ("",))
    from pgstudio.gui.common.file_dialogs import save_file_name
    save_file_name(w2, "Export curves as CSV", "curves.csv", "CSV (*.csv)")
    save_file_name(w2, "Export curves as CSV", "curves.csv", "CSV (*.csv)")
    assert saves[1] == str(tmp_path / "out" / "curves.csv")
    w2.close()
    w2.deleteLater()


def test_pgstudio_dir_and_pgstudio_run_open_the_studio_there(qtbot, window, shapes_folder, stylegan_run,
                                                             monkeypatch):
    from pgstudio.gui import app as gui_app
    opened = []
    monkeypatch.setattr(gui_app, "main", lambda path=None: opened.append(path) or 0)
    monkeypatch.setattr("pgstudio.qt_platform.window_problem", lambda: None)
    assert cli_main([str(shapes_folder)]) == 0 and opened[-1] == str(shapes_folder)
    assert cli_main(["gui", str(stylegan_run)]) == 0 and opened[-1] == str(stylegan_run)
    # what the window does with each
    with qtbot.waitSignal(window.dataset_panel.dataset_ready, timeout=30000):
        window.open_start_path(str(shapes_folder))
    assert window.tabs.currentIndex() == 0 and window.dataset_panel.source == str(shapes_folder)
    with qtbot.waitSignal(window.checkpoints_page.listed, timeout=30000):
        window.open_start_path(str(stylegan_run))
    assert window.tabs.currentIndex() == 1 and window.training_page.run.path == stylegan_run


# ---------------------------------------------------------------- 8: MS-SWD from the Checkpoints page
def test_ms_swd_on_the_page_moves_its_progress_cancels_and_reuses_the_floor(qtbot, window, progressive_run,
                                                                            tmp_path):
    import shutil
    run = tmp_path / "copy"
    shutil.copytree(progressive_run, run)
    page = window.checkpoints_page
    with qtbot.waitSignal(page.listed, timeout=30000):
        window.open_run(str(run))
    window.tabs.setCurrentWidget(page)
    page.table.selectRow(page.table.rowCount() - 1)
    values = []
    page.progress.valueChanged.connect(values.append)
    with qtbot.waitSignal(page.metric_recorded, timeout=120000):
        click(qtbot, page.buttons["swd"])
        assert page.cancel_metric.isVisible()
    assert len(values) >= 8 and values == sorted(values) and page.progress.maximum() == values[-1]
    first_steps = values[-1]
    assert not page.cancel_metric.isVisible()
    # the second checkpoint of the same reals skips the real-vs-real floor: fewer steps, same floor
    values.clear()
    floor = page.infos[str(RunFolder(run).checkpoints()[-1])].swd_floor
    page.table.selectRow(page.table.rowCount() - 2)
    with qtbot.waitSignal(page.metric_recorded, timeout=120000) as second:
        click(qtbot, page.buttons["swd"])
    assert values[-1] < first_steps and second.args[0]["floor"] == floor
    # Cancel: the score stops at its next step and records nothing
    records = len(RunFolder(run).read_metrics()[0])
    page.table.selectRow(0)
    page.swd_floors.clear()
    click(qtbot, page.buttons["swd"])
    click(qtbot, page.cancel_metric)
    qtbot.waitUntil(lambda: not page.progress.isVisible(), timeout=60000)
    assert "cancelled" in window.statusBar().currentMessage()
    assert len(RunFolder(run).read_metrics()[0]) == records


def test_the_lean_ms_swd_gives_the_numbers_of_the_straightforward_one():
    """ms_swd holds one level at a time and projects 16 directions at a time; written out here the
    plain way (every level of both sets at once, 128 directions in one product), the numbers agree."""
    from pgstudio.core.analysis import metrics
    rng = np.random.default_rng(0)
    a = torch.from_numpy(rng.integers(0, 256, (40, 3, 32, 32), dtype=np.uint8))
    b = torch.from_numpy(np.clip(a.numpy().astype(int) + rng.integers(-40, 40, a.shape), 0, 255).astype(np.uint8))
    gen = torch.Generator().manual_seed(3)
    da = metrics.extract_descriptors(a, 128, gen)
    db = metrics.extract_descriptors(b, 128, gen)
    reference = []
    for x, y in zip(da, db):
        x, y = metrics.normalise(x.clone()), metrics.normalise(y.clone())
        results = []
        for _ in range(4):
            dirs = torch.randn(x.shape[1], 128, generator=gen)
            dirs = dirs / dirs.norm(dim=0, keepdim=True)
            px = torch.sort((x @ dirs).T, dim=1).values
            py = torch.sort((y @ dirs).T, dim=1).values
            results.append((px - py).abs().mean().item())
        reference.append(1000 * sum(results) / 4)
    lean = metrics.ms_swd(a, b, seed=3)
    assert len(lean) == 2 and np.allclose(lean, reference, rtol=1e-4), (lean, reference)


# ---------------------------------------------------------------- 9: Runs page
def test_runs_page_shows_names_whole_lists_opened_runs_and_every_compared_column(qtbot, window, tmp_path,
                                                                                  shapes_folder, stylegan_run):
    runs = tmp_path / "runs"
    for name in ("run-20261206-101500", "run-20261206-101501", "run-20261206-101502"):
        Trainer.new(runs / name, tiny_config(shapes_folder, max_kimg=0.064, seed=int(name[-1]))).run()
    w = window
    page = w.runs_page
    page.set_folder(str(runs))
    w.open_run(str(stylegan_run))                     # a run from another folder, opened in the window
    w.resize(1280, 720)
    w.tabs.setCurrentWidget(page)
    qtbot.wait(50)
    names = [page.table.item(r, 1).text() for r in range(page.table.rowCount())]
    assert {stylegan_run.name, "run-20261206-101500", "run-20261206-101502"} <= set(names)
    assert page.table.textElideMode() == Qt.ElideMiddle
    assert page.table.columnWidth(1) >= page.table.fontMetrics().horizontalAdvance("run-20261206-101502") + 8
    assert "run-20261206-101500" in page.table.item(names.index("run-20261206-101500"), 1).toolTip()
    page.table.selectAll()
    qtbot.wait(50)
    t = page.settings_table
    n = len(names)
    assert t.columnCount() == n >= 4
    right = max(t.columnViewportPosition(c) + t.columnWidth(c) for c in range(n))
    assert right <= t.viewport().width() or t.horizontalScrollBar().maximum() > 0     # all in view, or scrolls
    assert all(t.columnWidth(c) >= 90 for c in range(n))
    page.table.clearSelection()
    for r in (0, 1):
        page._select_also(r)
    qtbot.wait(50)
    assert t.columnCount() == 2                           # two runs share the width: both whole in view
    assert t.columnViewportPosition(1) + t.columnWidth(1) <= t.viewport().width()


# ---------------------------------------------------------------- 10: bad input said on the field
def test_per_resolution_tables_refuse_resolutions_never_trained(qtbot, window, tmp_path):
    choose_demo_tiny(qtbot, window, tmp_path / "run")            # target 8×8
    f = window.setup_form
    for text, words in (("12:64", "12 is not a resolution"), ("4:16 64:8", "64 lies above the target resolution 8")):
        f.batch.setText(text)
        assert not f.start_button.isEnabled() and words in f.problems_text()
        assert "d0342c" in f.batch.styleSheet()                       # outlined on the field
    f.batch.setText("4:16 8:16")
    f.lr_table.setText("16:0.001")
    assert not f.start_button.isEnabled() and "16 lies above the target" in f.problems_text()
    f.lr_table.setText("")
    assert f.start_button.isEnabled()


def test_a_folder_of_three_images_trains_only_after_a_warning(qtbot, window, tmp_path, monkeypatch):
    folder = tmp_path / "three"
    folder.mkdir()
    for i, img in enumerate(draw_shapes(3)):
        img.save(folder / f"{i}.png")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    w = window
    with qtbot.waitSignal(w.dataset_panel.dataset_ready, timeout=30000):
        click(qtbot, w.dataset_panel.choose_button)
    f = w.setup_form
    f.out_dir.setText(str(tmp_path / "run"))
    f.device.setCurrentText("cpu")
    click(qtbot, f.start_button)
    box = f.few_images_box
    assert box.isVisible() and "Only 3 images found" in box.text() and "one minibatch" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.Cancel), Qt.LeftButton)
    assert not w.training_page.is_training() and not (tmp_path / "run").exists()
    click(qtbot, f.start_button)
    qtbot.mouseClick(next(b for b in f.few_images_box.buttons() if b.objectName() == "train_anyway"), Qt.LeftButton)
    qtbot.waitUntil(lambda: w.training_page.is_training(), timeout=10000)
    w.training_page.shutdown()


def test_the_cli_warns_before_training_three_images(tmp_path):
    folder = tmp_path / "three"
    folder.mkdir()
    for i, img in enumerate(draw_shapes(3)):
        img.save(folder / f"{i}.png")
    r = subprocess.run([sys.executable, "-m", "pgstudio", "train", "--data", str(folder), "--out", str(tmp_path / "r"),
                        "--resolution", "8", "--phase-kimg", "0.01", "--max-kimg", "0.02", "--device", "cpu"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0
    assert "warning: Only 3 images found" in r.stderr and "fewer than one minibatch" in r.stderr


# ---------------------------------------------------------------- 11: plots that do not mislead
def test_an_rv_run_draws_no_r_t_line_and_axes_read_plainly(qtbot, window, tmp_path, shapes_folder):
    out = tmp_path / "rv"
    cfg = tiny_config(shapes_folder, augment="ada", ada_signal="rv", ada_target=0.3, max_kimg=0.128,
                      metric_kimg=0.128, metric_n=16)
    Trainer.new(out, cfg).run()
    # the run as it stands before r_v's first value: its ticks carry p and an r_t, no r_v yet
    run = RunFolder(out)
    lines = []
    for r in run.read_metrics()[0]:
        if r.get("kind") == "tick":           # a tick's family statistics are keys of its own
            assert "augment_p" in r
            r.pop("augment_rv", None)
            r["augment_rt"] = 0.5
        lines.append(json.dumps(r))
    run.metrics_path.write_text("\n".join(lines) + "\n")
    window.open_run(str(out))
    plots = window.training_page.plots
    assert plots.aug_row
    data = plots.curve_data()
    assert len(data["augment_rt"][0]) == 0                                  # no r_t line in an r_v run
    legend = [label.text for _, label in plots.aug_plot.legend.items]
    assert not any("r_t" in text for text in legend) and any("r_v" in text for text in legend)
    # one MS-SWD point: read from zero, not spread over 326.2–327.0
    lo, hi = plots.swd_axis.right.viewRange()[1]
    assert lo == 0 and hi > 0
    for plot in (plots.loss_plot, plots.reg_plot, plots.aug_plot, plots.speed_plot):
        assert not plot.getAxis("left").autoSIPrefix
    assert window.training_page.state_label.wordWrap() and str(out) in window.training_page.state_label.toolTip()
    assert str(out) not in window.training_page.state_label.text()


def test_the_stylegan2_schedule_caption_speaks_of_no_fade(qtbot, window):
    f = window.setup_form
    assert "fade-in α" in f.schedule_caption.text()
    f.arch.setCurrentIndex(f.arch.findData("stylegan2"))
    assert "fade" not in f.schedule_caption.text().replace("no fade-in", "") and "no growing" in f.schedule_caption.text()


# ---------------------------------------------------------------- 12: explorer
def test_the_explorer_names_the_run_follows_the_open_run_and_labels_its_grids(qtbot, window, progressive_run,
                                                                           stylegan_run):
    ex = window.explorer_page
    with qtbot.waitSignal(ex.image_rendered, timeout=20000):
        ex.open_path(str(progressive_run))
    assert ex.source_label.text().startswith(f"{progressive_run.name}/ckpt-")
    window.open_run(str(stylegan_run))                # another run: the explorer shows its generator
    with qtbot.waitSignal(ex.image_rendered, timeout=20000):
        window.tabs.setCurrentWidget(ex)              # (loaded when the page is looked at)
    assert ex.source_label.text().startswith(f"{stylegan_run.name}/ckpt-") and ex.stylegan
    # a conditional generator's seed across classes: each cell named by its class
    with qtbot.waitSignal(ex.image_rendered, timeout=20000):
        ex.open_path(str(progressive_run))
    with qtbot.waitSignal(ex.image_rendered, timeout=20000):
        ex._render_all_classes()
    assert ex.view.cell_labels == ["discs", "squares"]
    with qtbot.waitSignal(ex.image_rendered, timeout=20000):
        qtbot.keyClick(ex.seed, Qt.Key_Up)
    assert ex.view.cell_labels == []                     # a single image carries none


def test_style_mixing_and_compare_grids_name_their_seeds(qtbot, window, stylegan_run):
    ex = window.explorer_page
    with qtbot.waitSignal(ex.image_rendered, timeout=20000):
        ex.open_path(str(stylegan_run))
    ex.mix_rows.setText("1, 2")
    ex.mix_cols.setText("5")
    with qtbot.waitSignal(ex.mixing_rendered, timeout=20000):
        ex._render_mixing()
    assert ex.view.cell_labels == ["", "seed 5", "seed 1", "", "seed 2", ""] and ex.view.cell_cols == 2
    from pgstudio.gui.checkpoints.page import CompareDialog
    a, b = RunFolder(stylegan_run).checkpoints()[:2]
    dialog = CompareDialog(a, b)
    assert dialog.views[0].cell_labels[:2] == ["seed 0", "seed 1"] and dialog.views[0].cell_cols == 4
    dialog.close()


def test_projection_offers_the_class_and_use_shows_the_reconstruction_as_it_was(qtbot, window, progressive_run,
                                                                               tmp_path):
    from PIL import Image
    ex = window.explorer_page
    with qtbot.waitSignal(ex.image_rendered, timeout=20000):
        ex.open_path(str(progressive_run))
    target = tmp_path / "t.png"
    Image.fromarray(np.full((8, 8, 3), 90, np.uint8)).save(target)
    dialog = ex.open_projection(str(target))
    assert dialog.class_choice.isVisibleTo(dialog) and dialog.class_choice.count() == 2
    dialog.class_choice.setCurrentIndex(1)
    dialog.steps.setValue(10)
    click(qtbot, dialog.start_button)
    qtbot.waitUntil(lambda: dialog.result is not None and not dialog.running(), timeout=60000)
    ex.truncate.setChecked(True)
    with qtbot.waitSignal(ex.image_rendered, timeout=20000):
        click(qtbot, dialog.use_button)
    assert ex.class_choice.currentIndex() == 1 and not ex.truncate.isChecked()
    assert all(s.value() == 0 for s in ex.dir_sliders)
    assert np.array_equal(ex.view.array(), dialog.result.image)     # p1 is the reconstruction just shown


# ---------------------------------------------------------------- 13: CLI
def run_cli(*args):
    r = subprocess.run([sys.executable, "-m", "pgstudio", *map(str, args)], capture_output=True, text=True,
                       timeout=300)
    return r.returncode, r.stdout, r.stderr


def test_cli_errors_are_one_line_and_say_what_was_meant(tmp_path):
    code, out, err = run_cli("train", "--demo", "--out", tmp_path / "x", "--resolutoin", "32")
    assert code == 2 and "did you mean --resolution?" in err and len(err.strip().splitlines()) == 1
    code, out, err = run_cli("trian")
    assert code == 2 and "did you mean 'train'?" in err and len(err.strip().splitlines()) == 1
    for value, words in (("2048", "must be at most 1024"), ("48", "48 is not a power of two")):
        code, out, err = run_cli("train", "--demo", "--out", tmp_path / "x", "--resolution", value)
        assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err
    code, out, err = run_cli("--version")
    assert code == 0 and out.strip().startswith("pgstudio ")


def test_generate_refuses_an_unknown_image_suffix(stylegan_run, tmp_path):
    code, out, err = run_cli("generate", stylegan_run, "--out", tmp_path / "x.xyz")
    assert code == 2 and "'.xyz' is not an image format" in err and ".png" in err
    assert not (tmp_path / "x.xyz").exists()
    assert run_cli("generate", stylegan_run, "--out", tmp_path / "x.jpg", "--n", "1")[0] == 0
    from PIL import Image
    assert Image.open(tmp_path / "x.jpg").format == "JPEG"


def test_the_progress_ends_on_one_line_at_100_percent(tmp_path):
    code, out, err = run_cli("train", "--demo", "--out", tmp_path / "r", "--resolution", "8", "--phase-kimg", "0.128",
                             "--max-kimg", "0.4", "--device", "cpu")
    assert code == 0
    lines = [line for line in err.replace("\r", "\n").splitlines() if "kimg" in line and "%" in line]
    assert lines and sum(line.startswith("100%") for line in lines) == 1, lines
    percents = [int(line.split("%")[0]) for line in lines]
    assert max(percents) == 100 and percents == sorted(percents)
