"""The studio window, driven through its widgets on the offscreen platform."""
import pytest
import signal
import subprocess
import sys
import time

import numpy as np
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton

from pgstudio.core.families import family
from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.training.trainer import Trainer
from pgstudio.gui.main_window import MainWindow
from pgstudio.gui.common.workers import running_threads, wait_for_threads
from tests.conftest import poison_generator_loss, tiny_config


def click(qtbot, button: QPushButton):
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.LeftButton)


def choose_demo_tiny(qtbot, w, out_dir, stabilize=0.256, fade=0.256, tick=0.064, arch="progressive"):
    with qtbot.waitSignal(w.dataset_panel.dataset_ready, timeout=30000):
        click(qtbot, w.dataset_panel.demo_button)
    with qtbot.waitSignal(w.dataset_panel.dataset_ready, timeout=30000):
        w.dataset_panel.resolution.setCurrentIndex(1)            # 8x8
    f = w.setup_form
    f.arch.setCurrentIndex(f.arch.findData(arch))                # re-applies the preset for the family
    assert f.mapping_layers.isVisible() == (arch in ("stylegan", "stylegan2"))
    if arch in ("stylegan", "stylegan2"):
        f.mapping_layers.setValue(2)
    f.latent.setValue(16)
    f.fmap_base.setValue(64)
    f.fmap_max.setValue(16)
    f.stabilize.setValue(stabilize)
    f.fade.setValue(fade)
    f.tick.setValue(tick)
    f.sample.setValue(0.128)
    f.checkpoint.setValue(100)
    f.batch.clear()
    qtbot.keyClicks(f.batch, "4:16 8:16")
    f.device.setCurrentText("cpu")
    f.out_dir.setText(str(out_dir))
    assert f.start_button.isEnabled(), f.problems_text()


def kimg(w):
    h = w.training_page.history
    return h.kimg[-1] if h.kimg else 0.0


@pytest.mark.parametrize("arch", ["progressive", "stylegan2"])
def test_demo_training_pause_resume_stop(qtbot, window, tmp_path, arch):
    w = window
    choose_demo_tiny(qtbot, w, tmp_path / "run", stabilize=50, arch=arch)
    assert w.dataset_panel.preview.array() is not None
    click(qtbot, w.setup_form.start_button)
    assert w.tabs.currentIndex() == 1
    page = w.training_page
    qtbot.waitUntil(lambda: len(page.history.kimg) >= 2 and page.samples.view.array() is not None, timeout=60000)
    first_grid = page.samples.view.array().copy()
    data = page.plots.curve_data()
    assert len(data["loss_d"][0]) >= 2 and len(data["alpha"][0]) >= 2
    if arch == "stylegan2":     # no growing: the regularisers replace the α/resolution track
        assert page.plots.second_row == "regularisers"
        assert len(data["r1"][0]) >= 2 and len(data["pl_mean"][0]) >= 2 and data["pl_mean"][1][-1] > 0
        assert RunFolder(tmp_path / "run").read_config().arch == "stylegan2"
        assert w.status_labels["phase"].text().startswith("StyleGAN2") and not w.status_labels["alpha"].isVisible()
    else:
        assert page.plots.second_row == "alpha"
    qtbot.waitUntil(lambda: len(page.history.samples) >= 3, timeout=60000)
    assert not np.array_equal(first_grid, page.samples.view.array())   # the grid changed
    assert "×" in w.status_labels["resolution"].text() and "img/s" in w.status_labels["speed"].text()
    assert w.status_labels["device"].text() == f"cpu · {family(arch).resolve_precision('auto', torch.device('cpu'))}"

    click(qtbot, page.pause_button)
    qtbot.waitUntil(lambda: "paused" in page.state_label.text(), timeout=10000)
    # what the GUI thread knows (the trainer's own attributes belong to its thread): where it
    # reported pausing, and the ticks that reached the page
    qtbot.waitUntil(lambda: page.paused_kimg is not None, timeout=10000)     # the trainer's PausedEvent
    paused_at = page.paused_kimg
    assert f"paused at {paused_at:.3f} kimg" in page.state_label.text()
    qtbot.wait(300)
    ticks = len(page.history.kimg)
    qtbot.wait(700)
    assert len(page.history.kimg) == ticks and page.history.kimg[-1] <= paused_at + 1e-9
    assert page.pause_button.text() == "Resume"
    click(qtbot, page.pause_button)
    qtbot.waitUntil(lambda: page.history.kimg[-1] > paused_at, timeout=10000)

    click(qtbot, page.save_button)
    qtbot.waitUntil(lambda: bool(RunFolder(tmp_path / "run").checkpoints()), timeout=20000)
    with qtbot.waitSignal(page.training_state_changed, timeout=30000):
        click(qtbot, page.stop_button)
    assert page.last_result.reason == "stopped"
    assert not page.is_training()                 # the training thread has finished
    ckpts = RunFolder(tmp_path / "run").checkpoints()
    assert ckpts and page.start_button.text() == "Resume"


def test_resume_in_window_continues(qtbot, window, tmp_path, shapes_folder):
    t = Trainer.new(tmp_path / "run", tiny_config(shapes_folder, max_kimg=0.2))
    t.run()
    page = window.training_page
    window.open_run(str(tmp_path / "run"))
    before = page.history.kimg[-1]
    window.setup_form.max_kimg.setValue(0)
    page.cfg = RunFolder(tmp_path / "run").read_config()
    # the run stopped at its max_kimg: raise it in the run's config, then Resume from the window
    cfg = page.cfg.replace(max_kimg=0.4)
    RunFolder(tmp_path / "run").write_config(cfg)
    with qtbot.waitSignal(page.training_state_changed, timeout=10000, check_params_cb=lambda running: not running):
        click(qtbot, page.start_button)
    qtbot.waitUntil(lambda: page.history.kimg and page.history.kimg[-1] >= 0.4, timeout=10000)
    assert page.history.kimg[-1] > before
    assert page.last_result.reason == "max_kimg"


def test_open_finished_run_rebuilds_history(qtbot, window, tmp_path, shapes_folder, monkeypatch):
    t = Trainer.new(tmp_path / "done", tiny_config(shapes_folder))
    t.run()
    run = RunFolder(tmp_path / "done")
    ticks = [r for r in run.read_metrics()[0] if r["kind"] == "tick"]
    samples, _ = run.read_samples()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "done"))
    qtbot.keyClick(window, Qt.Key_O, Qt.ControlModifier)
    page = window.training_page
    qtbot.waitUntil(lambda: len(page.history.kimg) == len(ticks), timeout=5000)
    data = page.plots.curve_data()
    assert len(data["loss_g"][0]) == len(ticks)
    assert set(data["resolution"][1]) == {2.0, 3.0}               # log2 of 4 and 8
    assert page.samples.timeline.maximum() == len(samples) - 1
    page.samples.timeline.setFocus()
    qtbot.keyClick(page.samples.timeline, Qt.Key_Home)
    assert page.samples.caption.text().startswith("kimg 0.0 · 4×4")
    assert not page.samples.follow_latest.isChecked()
    qtbot.keyClick(page.samples.timeline, Qt.Key_End)
    assert f"({len(samples)}/{len(samples)})" in page.samples.caption.text()
    assert page.start_button.text() == "Continue"          # it completed: it says so, and trains on
    # the File menu lists it at once (a menu disabled while empty can never show to refill itself)
    recent = window.recent_menu.actions()[0]
    assert window.recent_menu.isEnabled() and recent.data() == str(tmp_path / "done")
    assert recent.text().startswith("done  —  progressive 8², ") and recent.text().endswith("completed")

    # exports
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "x.csv"), ""))
    click(qtbot, page.export_csv_button)
    assert (tmp_path / "x.csv").read_text().count("\n") == len(ticks) + 1
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "g.png"), ""))
    click(qtbot, page.export_grid_button)
    assert (tmp_path / "g.png").stat().st_size > 0
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "c.png"), ""))
    click(qtbot, page.export_png_button)
    assert (tmp_path / "c.png").stat().st_size > 1000
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "t.gif"), ""))
    click(qtbot, page.timelapse_button)
    import imageio.v3 as iio
    assert iio.imread(tmp_path / "t.gif", index=None).shape[0] == len(samples)
    (tmp_path / "all").mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "all"))
    click(qtbot, page.export_all_button)
    assert len(list((tmp_path / "all").glob("*.png"))) == len(samples)


def test_open_stylegan2_run_shows_one_resolution_and_regularisers(qtbot, window, tmp_path, shapes_folder,
                                                                   monkeypatch):
    cfg = tiny_config(shapes_folder, arch="stylegan2", loss="logistic", mapping_layers=2, max_kimg=0.2)
    Trainer.new(tmp_path / "sg2", cfg).run()
    ticks = [r for r in RunFolder(tmp_path / "sg2").read_metrics()[0] if r["kind"] == "tick"]
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "sg2"))
    qtbot.keyClick(window, Qt.Key_O, Qt.ControlModifier)
    page = window.training_page
    qtbot.waitUntil(lambda: len(page.history.kimg) == len(ticks), timeout=5000)
    plots = page.plots
    data = plots.curve_data()
    assert plots.second_row == "regularisers" and not plots.res_axis.right.isVisible()
    assert set(data["resolution"][1]) == {3.0} and not plots._bands and not plots._lines   # no fade bands
    assert len(data["pl_mean"][0]) == len(ticks) and len(data["r1"][0]) == len(ticks)
    window.grab().save(str(tmp_path / "sg2.png"))
    # a progressive run opened next gets its α/resolution track back
    Trainer.new(tmp_path / "pg", tiny_config(shapes_folder, max_kimg=0.1)).run()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "pg"))
    qtbot.keyClick(window, Qt.Key_O, Qt.ControlModifier)
    qtbot.waitUntil(lambda: plots.second_row == "alpha", timeout=5000)
    assert plots.res_axis.right.isVisible()


def test_follow_a_run_written_by_another_process(qtbot, window, tmp_path, shapes_folder):
    out = tmp_path / "headless"
    proc = subprocess.Popen([sys.executable, "-m", "pgstudio", "train", "--data", str(shapes_folder), "--out", str(out),
                             "--resolution", "8", "--phase-kimg", "5", "--quiet", "--device", "cpu"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        qtbot.waitUntil(lambda: (out / "running.json").exists() and (out / "metrics.jsonl").exists(), timeout=60000)
        window.open_run(str(out))
        page = window.training_page
        assert page.following and not page.start_button.isEnabled()
        n = len(page.history.kimg)
        qtbot.waitUntil(lambda: len(page.history.kimg) > n, timeout=120000)    # new ticks appear
        assert not page.is_training()                              # it follows; it never trains itself
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    qtbot.waitUntil(lambda: not page.following, timeout=10000)
    assert page.start_button.text() == "Resume"


def test_close_while_training_stops_and_saves(qtbot, tmp_path, monkeypatch):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    choose_demo_tiny(qtbot, w, tmp_path / "run", stabilize=50)
    click(qtbot, w.setup_form.start_button)
    page = w.training_page
    qtbot.waitUntil(lambda: len(page.history.kimg) >= 1, timeout=60000)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    assert w.close()
    assert not page.is_training()
    wait_for_threads()
    assert running_threads() == 0
    assert RunFolder(tmp_path / "run").checkpoints()
    assert not (tmp_path / "run" / "running.json").exists()


def test_invalid_settings_disable_start(qtbot, window, tmp_path):
    f = window.setup_form
    assert not f.start_button.isEnabled() and "demo" in f.problems_text()
    choose_demo_tiny(qtbot, window, tmp_path / "run")
    f.batch.clear()
    qtbot.keyClicks(f.batch, "4:abc")
    assert not f.start_button.isEnabled()
    assert "batch table" in f.problems_text() and "border" in f.batch.styleSheet()
    f.batch.clear()
    qtbot.keyClicks(f.batch, "4:16")
    assert f.start_button.isEnabled() and f.batch.styleSheet() == ""
    f.stabilize.setValue(0)
    assert not f.start_button.isEnabled() and "phase" in f.problems_text()
    f.stabilize.setValue(1)
    assert f.start_button.isEnabled()
    # StyleGAN2's own rules: its loss, and no torch.compile
    f.arch.setFocus()
    qtbot.keyClick(f.arch, Qt.Key_Down)                   # StyleGAN (2019), then StyleGAN2
    assert f.arch.currentData() == "stylegan" and f.loss.currentText() == "logistic"
    qtbot.keyClick(f.arch, Qt.Key_Down)
    assert f.arch.currentData() == "stylegan2" and f.loss.currentText() == "logistic"
    assert f.start_button.isEnabled(), f.problems_text()
    f.loss.setCurrentText("wgan-gp")
    assert not f.start_button.isEnabled() and "WGAN-GP" in f.problems_text() and "border" in f.loss.styleSheet()
    f.loss.setCurrentText("logistic")
    f.precision.setFocus()                                    # auto → fp32 → bf16
    qtbot.keyClick(f.precision, Qt.Key_Down)
    assert f.build()[0].precision == "fp32" and f.start_button.isEnabled(), f.problems_text()
    qtbot.keyClick(f.precision, Qt.Key_Down)
    assert not f.start_button.isEnabled() and "per block" in f.problems_text() and "border" in f.precision.styleSheet()
    qtbot.keyClick(f.precision, Qt.Key_Up)
    assert f.start_button.isEnabled() and f.precision.styleSheet() == ""
    qtbot.mouseClick(f.compile, Qt.LeftButton, pos=f.compile.rect().center())
    assert f.compile.isChecked() and not f.start_button.isEnabled() and "compile" in f.problems_text()


def test_dataset_page_reports_skipped_files(qtbot, window, tmp_path, monkeypatch):
    from PIL import Image
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(5):
        Image.new("RGB", (20, 12), (i * 40, 100, 200)).save(folder / f"{i}.png")
    Image.new("RGB", (40, 40), (9, 9, 9)).save(folder / "big.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (folder / "empty.png").write_bytes(b"")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    with qtbot.waitSignal(window.dataset_panel.dataset_ready, timeout=30000):
        click(qtbot, window.dataset_panel.choose_button)
    panel = window.dataset_panel
    assert panel.skipped_table.rowCount() == 2
    assert "5" in panel.summary.text() and "5 not square" in panel.summary.text()
    assert panel.preview.array() is not None
    assert "5 of them are smaller than 32×32 and were enlarged" in panel.summary.text()   # 12 px high, cropped
    assert panel.size_counts == {(20, 12): 5, (40, 40): 1}    # each size drawn once, sized by its count
    dots = {(p.pos().x(), p.pos().y()): p.size() for p in panel.sizes_scatter.points()}
    assert dots[(20, 12)] > dots[(40, 40)]
    with qtbot.waitSignal(panel.dataset_ready, timeout=30000):
        panel.resolution.setCurrentIndex(1)                  # 8x8: nothing enlarged, no warning
    assert "enlarged" not in panel.summary.text()


def test_bad_run_folder_shows_error_and_app_survives(qtbot, window, tmp_path):
    window.open_run(str(tmp_path))
    assert window.error_box is not None and "not a pgstudio run folder" in window.error_box.text()
    window.error_box.close()
    assert window.isVisible()


def test_layout_and_recent_runs_are_remembered(qtbot, tmp_path, shapes_folder):
    t = Trainer.new(tmp_path / "r", tiny_config(shapes_folder, max_kimg=0.064))
    t.run()
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.resize(780, 500)                       # the offscreen screen is 800x600
    expected = (w.size().width(), w.size().height())
    assert expected[0] == 780
    w.training_page.splitter.setSizes([100, 400])
    sizes = w.training_page.splitter.sizes()
    w.open_run(str(tmp_path / "r"))
    w.close()
    w2 = MainWindow()
    qtbot.addWidget(w2)
    assert (w2.size().width(), w2.size().height()) == expected
    assert w2.training_page.splitter.sizes() == sizes
    w2._fill_recent()
    assert [a.data() for a in w2.recent_menu.actions()][0] == str(tmp_path / "r")


def test_worker_error_shows_dialog_and_keeps_saved_work(qtbot, window, tmp_path, monkeypatch):
    from pgstudio.core.training import losses
    real = poison_generator_loss(monkeypatch, from_call=41)
    choose_demo_tiny(qtbot, window, tmp_path / "run", stabilize=50)
    window.setup_form.checkpoint.setValue(0.128)
    with qtbot.waitSignal(window.training_page.blew_up, timeout=60000) as blocker:
        click(qtbot, window.setup_form.start_button)
    assert blocker.args[0].startswith("non-finite generator loss at step 40")
    qtbot.waitUntil(lambda: window.error_box is not None and window.error_box.isVisible(), timeout=5000)
    assert "non-finite" in window.error_box.text() and "--lr-scale 0.5" in window.error_box.text()
    assert "non-finite" in window.training_page.log.toPlainText()
    assert not window.training_page.is_training()
    run = RunFolder(tmp_path / "run")
    assert run.checkpoints()            # what was saved before is still there
    assert window.training_page.start_button.isEnabled()        # the app stays usable
    # the dialog's way past the blow-up: resume the last checkpoint with half the learning rate
    monkeypatch.setattr(losses, "generator_loss", real)
    resume = window.error_box.findChild(QPushButton, "resume_lower_lr")
    with qtbot.waitSignal(window.training_page.training_state_changed, timeout=10000):
        click(qtbot, resume)
    qtbot.waitUntil(lambda: any(r.get("event") == "lr_scale" for r in run.read_metrics()[0]), timeout=30000)
    assert run.read_config().lr_scale == 0.5
    window.training_page.stop()
    qtbot.waitUntil(lambda: not window.training_page.is_training(), timeout=60000)
    assert window.training_page.last_result.reason == "stopped"


def test_import_can_be_cancelled(qtbot, window, tmp_path, monkeypatch):
    from PIL import Image
    import pgstudio.core.data.dataset as dataset_module
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(60):
        Image.new("RGB", (8, 8), (i, 0, 0)).save(folder / f"{i}.png")
    real = dataset_module.load_image

    def slow(*a, **k):
        time.sleep(0.05)
        return real(*a, **k)
    monkeypatch.setattr(dataset_module, "load_image", slow)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    panel = window.dataset_panel
    click(qtbot, panel.choose_button)
    qtbot.waitUntil(lambda: panel.cancel_button.isVisible() and panel.progress.value() > 0, timeout=10000)
    click(qtbot, panel.cancel_button)
    qtbot.waitUntil(lambda: not panel.importing(), timeout=10000)
    assert panel.summary.text() == "import cancelled" and panel.dataset is None
    assert not window.setup_form.start_button.isEnabled()


def test_finished_workers_are_released_in_the_gui_thread(qtbot):
    """Workers are dropped by the GUI thread after their thread finished, never in their own
    thread (a worker deleted there deadlocked the GUI thread against PySide's destructor)."""
    import threading
    from PySide6.QtCore import QObject, Signal, Slot
    from pgstudio.gui.common import workers

    released_in = []

    class Probe(QObject):
        done = Signal()

        @Slot()
        def run(self):
            self.done.emit()

        def __del__(self):
            released_in.append(threading.current_thread() is threading.main_thread())

    probe = Probe()
    thread = workers.start_in_thread(probe, [probe.done])
    del probe                                   # from here on only the worker registry holds it
    qtbot.waitUntil(lambda: bool(released_in), timeout=10000)
    assert released_in == [True] and thread not in workers._WORKERS and workers.running_threads() == 0
