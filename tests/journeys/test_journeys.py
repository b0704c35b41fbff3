"""User journeys: the real MainWindow, offscreen, driven from start to end the way a person
would — menus, shortcuts, clicks — with assertions on what a person sees (every row filled,
every thumbnail drawn, the right run's log), not on the handlers behind it."""
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractScrollArea, QLabel, QScrollArea, QWidget

from pgstudio.core.storage.runfolder import RunFolder
from tests.test_gui import choose_demo_tiny, click


def open_through_recent_menu(qtbot, window, path):
    """File ▸ Recent runs ▸ <run>, as a person opens a run they had open before."""
    from pgstudio.gui.common.settings import add_recent_run
    add_recent_run(str(path))
    window._fill_recent()
    action = next(a for a in window.recent_menu.actions() if a.data() == str(Path(path).resolve()) or
                  a.data() == str(path))
    with qtbot.waitSignal(window.checkpoints_page.listed, timeout=30000):
        action.trigger()


def checkpoint_rows(page):
    """What each row of the Checkpoints table shows: its texts by column, and its thumbnail."""
    from pgstudio.gui.checkpoints.page import COLUMNS
    rows = []
    for r in range(page.table.rowCount()):
        texts = {name: (page.table.item(r, c).text() if page.table.item(r, c) else "")
                 for c, name in enumerate(COLUMNS) if name}
        label = page.table.cellWidget(r, 0)
        pixmap = label.pixmap() if isinstance(label, QLabel) else None
        texts["thumbnail"] = pixmap if pixmap is not None and not pixmap.isNull() else None
        rows.append(texts)
    return rows


def assert_every_checkpoint_row_filled(page, run, least: int, resolutions: tuple[str, ...]) -> list[dict]:
    """The Checkpoints page as a person sees an opened run: a row per checkpoint of the folder (at
    least ``least``), each read ("ok") with its kimg, D loss, MS-SWD, resolution and thumbnail."""
    rows = checkpoint_rows(page)
    assert len(rows) == len(RunFolder(run).checkpoints()) >= least
    for row in rows:
        assert row["status"] == "ok" and row["kimg"] and row["D loss"] and row["MS-SWD"], row
        assert row["thumbnail"] is not None and row["res"] in resolutions, row
    return rows


def go_to_page(qtbot, window, index):
    """Ctrl+1 … Ctrl+5, the View menu's shortcuts."""
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key_1 + index, Qt.ControlModifier)
    assert window.tabs.currentIndex() == index


def test_open_a_run_and_every_page_shows_it(qtbot, window, progressive_run, stylegan_run):
    """Open a run from Recent runs: its name in the title, its own log, every checkpoint row
    filled (kimg, losses, MS-SWD, a thumbnail, "ok"); every page visited; switching to another
    run and back keeps the last-grid strip full."""
    w = window
    open_through_recent_menu(qtbot, w, progressive_run)
    assert w.windowTitle() == f"pgstudio — {progressive_run.name}"
    log = w.training_page.log.toPlainText()
    assert "training 8x8 on cpu" in log and "checkpoint" in log       # the run's own log.txt, not a blank panel
    page = w.checkpoints_page
    rows = assert_every_checkpoint_row_filled(page, progressive_run, 8, ("4", "8"))
    assert all(row["G loss"] for row in rows), rows
    go_to_page(qtbot, w, 3)
    page.table.selectRow(len(rows) - 1)
    assert page.buttons["resume"].isEnabled() and page.buttons["explore"].isEnabled()
    for index in (0, 1, 2, 4):
        go_to_page(qtbot, w, index)
    # the explorer shows the open run's generator, named by run and file
    qtbot.waitUntil(lambda: w.explorer_page.view.array() is not None, timeout=20000)
    assert w.explorer_page.source_label.text().startswith(f"{progressive_run.name}/ckpt-0000001024.pt")

    strip = w.training_page.samples
    first = [res for res, grid, _ in strip.strip_thumbnails()]
    assert first == [4, 8] and all(grid is not None for _, grid, _ in strip.strip_thumbnails())
    with qtbot.waitSignal(page.listed, timeout=30000):
        w.open_run(str(stylegan_run))
    assert w.windowTitle() == f"pgstudio — {stylegan_run.name}"
    assert [res for res, _, _ in strip.strip_thumbnails()] == [8]
    with qtbot.waitSignal(page.listed, timeout=30000):
        w.open_run(str(progressive_run))
    qtbot.wait(50)
    shown = strip.strip_thumbnails()
    assert [res for res, _, _ in shown] == [4, 8] and all(grid is not None for _, grid, _ in shown)
    # the strip's holders are the only widgets in it: none left over from the runs before
    holders = [strip.strip.itemAt(i).widget() for i in range(strip.strip.count())]
    assert len([h for h in holders if h is not None]) == 2


def test_ctrl_return_starts_the_run_the_form_shows(qtbot, window, stylegan_run, tmp_path):
    """A completed run is open; the user fills the form for a new StyleGAN2 run and presses
    Ctrl+Return on the Dataset page: the new run starts, the open one is left as it was."""
    w = window
    with qtbot.waitSignal(w.checkpoints_page.listed, timeout=30000):
        w.open_run(str(stylegan_run))
    before = (stylegan_run / "config.json").read_text()
    assert w.training_page.start_button.text() == "Continue"
    go_to_page(qtbot, w, 0)
    choose_demo_tiny(qtbot, w, tmp_path / "new", arch="progressive", stabilize=0.128, fade=0.128)
    w.setup_form.max_kimg.setValue(0.3)
    w.activateWindow()
    qtbot.keyClick(w, Qt.Key_Return, Qt.ControlModifier)
    page = w.training_page
    qtbot.waitUntil(lambda: page.run is not None and page.run.path == tmp_path / "new", timeout=10000)
    qtbot.waitUntil(lambda: not page.is_training(), timeout=120000)
    assert RunFolder(tmp_path / "new").read_config().arch == "progressive"
    assert (stylegan_run / "config.json").read_text() == before            # not continued, not rewritten
    # elsewhere Ctrl+Return is the Training page's Start: here Continue of the run just finished
    assert page.start_button.text() == "Continue"


def test_a_headless_run_followed_in_the_window_shows_its_log_and_checkpoints(qtbot, window, tmp_path,
                                                                            shapes_folder):
    """`pgstudio train` runs in another process; the window follows it: the log panel shows that
    run's lines as they are written, and the Checkpoints page lists each checkpoint within seconds."""
    out = tmp_path / "headless"
    script = ("import sys; sys.path.insert(0, %r)\n"
              "from tests.conftest import tiny_config\n"
              "from pgstudio.core.training.trainer import Trainer\n"
              "Trainer.new(%r, tiny_config(__import__('pathlib').Path(%r), max_kimg=3.0, checkpoint_kimg=0.5,"
              " tick_kimg=0.064)).run()\n") % (str(Path(__file__).parents[2]), str(out), str(shapes_folder))
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.time() + 60
        while RunFolder(out).active_trainer_pid() is None or not RunFolder(out).metrics_path.exists():
            assert time.time() < deadline and proc.poll() is None, "the headless trainer did not start"
            time.sleep(0.1)
        w = window
        w.open_run(str(out))
        page = w.training_page
        assert page.following
        qtbot.waitUntil(lambda: "training 8x8 on cpu" in page.log.toPlainText(), timeout=10000)
        listed = w.checkpoints_page.table.rowCount()
        qtbot.waitUntil(lambda: len(RunFolder(out).checkpoints()) > listed, timeout=90000)
        written = RunFolder(out).checkpoints()[-1].name
        # within two follow polls the page lists it, without Refresh
        qtbot.waitUntil(lambda: any(w.checkpoints_page.table.item(r, 1) is not None and
                                    w.checkpoints_page.table.item(r, 1).text() == written
                                    for r in range(w.checkpoints_page.table.rowCount())), timeout=5000)
        qtbot.waitUntil(lambda: "checkpoint" in page.log.toPlainText().split("following", 1)[-1], timeout=5000)
    finally:
        proc.terminate()
        proc.wait(30)


def visible_named_widgets(root: QWidget):
    for child in root.findChildren(QWidget):
        if child.objectName() and not child.objectName().startswith("qt_") and child.isVisibleTo(root) \
                and child.isVisible() and child.window() is root.window():
            yield child


def text_cut_off(widget: QWidget) -> bool:
    """Whether a label's or a button's words do not fit the space it has (clipped at the right, or
    a wrapped label lower than its lines)."""
    from PySide6.QtWidgets import QPushButton
    if isinstance(widget, QLabel) and widget.text() and "<" not in widget.text():
        if widget.wordWrap():
            return widget.heightForWidth(widget.width()) > widget.height() + 2
        longest = max(widget.fontMetrics().horizontalAdvance(line) for line in widget.text().splitlines())
        return longest > widget.contentsRect().width() + 2
    if isinstance(widget, QPushButton) and widget.text():
        return widget.fontMetrics().horizontalAdvance(widget.text().replace("&", "")) > widget.width() - 6
    return False


def inside_vertical_scroll(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QScrollArea) and parent.verticalScrollBarPolicy() != Qt.ScrollBarAlwaysOff:
            return True
        parent = parent.parentWidget()
    return False


@pytest.mark.parametrize("arch", ["progressive", "stylegan2", "classic"])
def test_every_pages_controls_lie_inside_the_window_at_1280x720(qtbot, window, progressive_run, arch):
    """At 1280×720 nothing named is cut off at the right, nor below the bottom outside a page
    that scrolls; the form's rows keep their labels beside their fields."""
    w = window
    with qtbot.waitSignal(w.checkpoints_page.listed, timeout=30000):
        w.open_run(str(progressive_run))
    w.setup_form.arch.setCurrentIndex(w.setup_form.arch.findData(arch))
    w.resize(1280, 720)
    qtbot.wait(50)
    assert (w.width(), w.height()) == (1280, 720), "a page's minimum size pushed the window past 1280×720"
    bounds = w.rect()
    for index in range(w.tabs.count()):
        w.tabs.setCurrentIndex(index)
        qtbot.wait(30)
        page = w.tabs.currentWidget()
        for widget in visible_named_widgets(page):
            if isinstance(widget.parentWidget(), QAbstractScrollArea) or widget.objectName() in ("pages",):
                continue
            top_left = widget.mapTo(w, widget.rect().topLeft())
            bottom_right = widget.mapTo(w, widget.rect().bottomRight())
            assert top_left.x() >= bounds.left() and bottom_right.x() <= bounds.right() + 1, \
                f"{w.tabs.tabText(index)}: {widget.objectName()} reaches x={bottom_right.x()}"
            if not inside_vertical_scroll(widget):
                assert bottom_right.y() <= bounds.bottom() + 1, \
                    f"{w.tabs.tabText(index)}: {widget.objectName()} reaches y={bottom_right.y()}"
            assert not text_cut_off(widget), f"{w.tabs.tabText(index)}: {widget.objectName()}'s words are cut off"
    # the family's own rows keep their labels at their left (a wrapped row puts the label above)
    w.tabs.setCurrentIndex(0)
    qtbot.wait(30)
    form = w.setup_form.form
    checked = 0
    for row in range(form.rowCount()):
        label = form.itemAt(row, form.ItemRole.LabelRole)
        field = form.itemAt(row, form.ItemRole.FieldRole)
        if label is None or field is None or not label.widget() or not label.widget().text():
            continue
        if field.widget() is not None and field.widget().isVisible():
            checked += 1
            assert label.geometry().top() >= field.geometry().top() - 2, \
                f"the label '{label.widget().text()}' sits above its field"
    assert checked >= 15


def test_a_first_start_fits_the_screen(qtbot):
    """No remembered geometry: the window opens within the screen's available area."""
    from pgstudio.gui.common.settings import app_settings
    from pgstudio.gui.main_window import MainWindow
    app_settings().remove("window/geometry")
    w = MainWindow()
    try:
        area = w.screen().availableGeometry()
        assert w.width() <= area.width() and w.height() <= area.height()
        assert w.width() <= 1280 and w.height() <= 720
        size = (min(area.width(), 1100) - 10, min(area.height(), 650) - 10)
        w.resize(*size)
        w.close()                      # remembered …
        w2 = MainWindow()
        assert (w2.width(), w2.height()) == size                # … and restored
        w2.resize(area.width() + 600, area.height() + 300)      # as on a larger screen, then remembered
        w2.close()
        w3 = MainWindow()
        assert w3.width() <= area.width() and w3.height() <= area.height()     # shrunk to this one
        w3.close()
    finally:
        w.deleteLater()
        app_settings().remove("window/geometry")


CLOSE_MID_READ = r"""
import sys
sys.path.insert(0, {root!r})
from pgstudio.gui.app import create_app
app = create_app()
from pgstudio.gui.main_window import MainWindow
w = MainWindow()
w.show()
w.open_run({run!r})
app.processEvents()
w.close()
{ending}
"""


def run_script(code: str, settings) -> subprocess.CompletedProcess:
    import os
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PGSTUDIO_SETTINGS=str(settings))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_closing_the_window_mid_read_always_exits_cleanly(progressive_run, tmp_path):
    """A script opens a run with many checkpoints, processes events once, closes the window while
    the Checkpoints page is still reading, and exits: code 0, every time (20 times); a script that
    raises there ends with its traceback, never with Qt's abort about a running QThread."""
    from concurrent.futures import ThreadPoolExecutor
    code = CLOSE_MID_READ.format(root=str(Path(__file__).parents[2]), run=str(progressive_run), ending="")
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda i: run_script(code, tmp_path / f"s{i}"), range(20)))
    bad = [(r.returncode, r.stderr[-400:]) for r in results if r.returncode != 0]
    assert not bad, f"{len(bad)} of 20 exits failed: {bad[:2]}"
    raising = CLOSE_MID_READ.format(root=str(Path(__file__).parents[2]), run=str(progressive_run),
                                    ending="raise SystemExit('leaving on purpose')")
    for i in range(3):
        r = run_script(raising.replace("w.close()\n", ""), tmp_path / f"r{i}")
        assert r.returncode == 1 and "leaving on purpose" in r.stderr, r.stderr[-400:]
        assert "QThread: Destroyed" not in r.stderr and r.returncode != -6, r.stderr[-400:]
