"""The Runs page (#16): every run under the runs folder in a table, two runs overlaid with their
setting differences marked, notes and tags kept in the run folder."""
import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from pgstudio.core.storage.annotations import read_annotations
from pgstudio.core.storage.run_summary import setting_rows, summarize
from pgstudio.core.training.trainer import Trainer
from pgstudio.gui.runs.page import TAGS
from tests.conftest import tiny_config


def test_the_runs_page_overlays_two_runs_and_keeps_notes(qtbot, window, tmp_path, shapes_folder, monkeypatch):
    runs = tmp_path / "runs"
    Trainer.new(runs / "a-logistic", tiny_config(shapes_folder, loss="logistic", max_kimg=0.192)).run()
    Trainer.new(runs / "b-hinge", tiny_config(shapes_folder, loss="hinge", max_kimg=0.128)).run()
    (runs / "not-a-run").mkdir()
    w = window
    page = w.runs_page
    page.set_folder(str(runs))
    w.tabs.setCurrentWidget(page)
    assert page.table.rowCount() == 2
    names = [page.table.item(r, 1).text() for r in range(2)]
    assert names == ["a-logistic", "b-hinge"]
    assert page.table.item(0, 7).text() == "completed" and page.table.item(0, 2).text() == "progressive"
    assert page.table.cellWidget(0, 0).pixmap() is not None and not page.table.cellWidget(0, 0).pixmap().isNull()

    # select both with the mouse: ctrl-click the second row
    rect = page.table.visualRect(page.table.model().index(0, 1))
    qtbot.mouseClick(page.table.viewport(), Qt.LeftButton, pos=rect.center())
    rect = page.table.visualRect(page.table.model().index(1, 1))
    qtbot.mouseClick(page.table.viewport(), Qt.LeftButton, Qt.ControlModifier, rect.center())
    assert [p.name for p in page.selected_paths()] == ["a-logistic", "b-hinge"]
    assert page.plotted_names() == ["a-logistic", "b-hinge"]                 # D loss of both, one axis
    xa = page.plot.listDataItems()[0].getData()[0]
    xb = page.plot.listDataItems()[1].getData()[0]
    assert xa[-1] > xb[-1] > 0                                            # each on its own kimg
    differing = page.differing_settings()
    assert "loss" in differing and "max_kimg" in differing and "seed" not in differing
    assert page.settings_table.verticalHeaderItem(0).text() in differing    # the differences come first
    loss_row = [page.settings_table.verticalHeaderItem(r).text() for r in range(page.settings_table.rowCount())].index("loss")
    assert page.settings_table.item(loss_row, 1).text() == "hinge"
    page.x_choice.setCurrentIndex(1)                                      # against wall time
    assert page.plot.getPlotItem().getAxis("bottom").labelText.startswith("wall time")

    # notes and tags typed into the table are written to the run folder and read back
    rect = page.table.visualRect(page.table.model().index(0, TAGS))
    qtbot.mouseClick(page.table.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.keyClick(page.table, Qt.Key_F2)                                # edit the tags cell
    editor = next(e for e in page.table.findChildren(QLineEdit) if e.isVisible())
    assert w.training_page.run is None
    qtbot.keyClicks(editor, "baseline, logistic")
    elsewhere = page.table.visualRect(page.table.model().index(0, 2))
    qtbot.mouseClick(page.table.viewport(), Qt.LeftButton, pos=elsewhere.center())   # ends the edit
    assert read_annotations(runs / "a-logistic").tags == ("baseline", "logistic")
    page.refresh()
    assert page.table.item(0, TAGS).text() == "baseline logistic"

    # one run selected opens on the Training page
    rect = page.table.visualRect(page.table.model().index(1, 1))
    qtbot.mouseClick(page.table.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.mouseClick(page.buttons["open"], Qt.LeftButton)
    assert w.training_page.run is not None and w.training_page.run.path.name == "b-hinge"


def test_run_summaries_read_status_and_settings(tmp_path, shapes_folder):
    run = tmp_path / "r"
    Trainer.new(run, tiny_config(shapes_folder, max_kimg=0.064)).run()
    s = summarize(run)
    assert s.status == "completed" and s.kimg > 0 and s.newest_grid is not None
    rows = setting_rows([{"a": 1, "b": 2}, {"a": 1, "b": 3, "c": None}])
    assert rows[0] == ("b", [2, 3], True) and ("a", [1, 1], False) in rows
    (run / "notes.json").write_text("{broken")
    assert summarize(run).annotations.tags == ()                          # an unreadable notes file reads as none
    json.loads((run / "config.json").read_text())
