"""The Training page's curves read back (#16 item 7): a crosshair with the tick's numbers on hover,
the timeline's grid marked on every row, and a click on the curves shows the nearest grid."""
from PySide6.QtCore import QPointF, Qt

from pgstudio.core.training.trainer import Trainer
from tests.conftest import tiny_config


def widget_pos(plots, plot, x, y):
    scene = plot.vb.mapViewToScene(QPointF(x, y))
    return plots.canvas.mapFromScene(scene)


def test_hover_marker_and_click_to_seek(qtbot, window, tmp_path, shapes_folder):
    Trainer.new(tmp_path / "done", tiny_config(shapes_folder)).run()
    window.open_run(str(tmp_path / "done"))
    page = window.training_page
    plots, history = page.plots, page.history
    qtbot.waitUntil(lambda: len(history.kimg) > 5 and len(history.samples) > 3, timeout=5000)
    page.samples.timeline.setFocus()
    qtbot.keyClick(page.samples.timeline, Qt.Key_Home)
    assert plots.marker_kimg == history.samples[0].kimg and plots._marker_lines[0].isVisible()
    qtbot.keyClick(page.samples.timeline, Qt.Key_End)
    assert plots.marker_kimg == history.samples[-1].kimg

    qtbot.wait(200)                      # the views settle their ranges before a position is mapped
    i = len(history.kimg) // 2
    y = history.loss_d[i]
    pos = widget_pos(plots, plots.loss_plot, history.kimg[i], y)
    qtbot.mouseMove(plots.canvas.viewport(), pos)
    qtbot.wait(100)
    assert plots.hover_kimg == history.kimg[i], (plots.hover_kimg, history.kimg[i], plots.readout.text(), pos)
    assert f"{history.kimg[i]:.1f} kimg" in plots.readout.text() and "D " in plots.readout.text()
    assert all(line.isVisible() and abs(line.value() - history.kimg[i]) < 1e-9 for line in plots._hover_lines
               if line.scene() is not None)

    # a click on the curves shows the grid nearest to that kimg
    nearest = min(range(len(history.samples)), key=lambda j: abs(history.samples[j].kimg - history.kimg[i]))
    qtbot.mouseClick(plots.canvas.viewport(), Qt.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: page.samples.timeline.value() == nearest, timeout=3000)
    assert plots.marker_kimg == history.samples[nearest].kimg
    plots.x_axis.setCurrentIndex(1)                 # wall-clock: the marker moves to the grid's time
    assert abs(plots._marker_lines[0].value() - history.wall_at(plots.marker_kimg) / 60) < 1e-9


def test_a_grid_opens_in_its_own_window_and_zooms(qtbot, window, tmp_path, shapes_folder):
    from PySide6.QtWidgets import QDialog, QPushButton
    Trainer.new(tmp_path / "done", tiny_config(shapes_folder, max_kimg=0.128)).run()
    window.open_run(str(tmp_path / "done"))
    view = window.training_page.samples.view
    qtbot.waitUntil(lambda: view.array() is not None, timeout=5000)
    qtbot.mouseClick(view, Qt.LeftButton, pos=view.target_rect().center())
    dialog = window.findChild(QDialog, "enlarged_grid")
    qtbot.waitUntil(lambda: dialog is not None and dialog.isVisible(), timeout=3000)
    h, w = dialog.view.array().shape[:2]
    fit = dialog.current_factor()
    qtbot.mouseClick(dialog.findChild(QPushButton, "zoom_in"), Qt.LeftButton)
    assert dialog.zoom == 2 * fit and dialog.view.size().width() == w * 2 * fit
    assert dialog.view.target_rect().width() == w * 2 * fit              # every pixel the same whole size
    qtbot.mouseClick(dialog.findChild(QPushButton, "zoom_out"), Qt.LeftButton)
    assert dialog.zoom == fit and dialog.zoom_label.text() == f"{fit}×"
    qtbot.mouseClick(dialog.findChild(QPushButton, "zoom_fit"), Qt.LeftButton)
    assert dialog.zoom is None and dialog.zoom_label.text() == "fit"
    dialog.close()


def test_log_y_labels_more_than_the_decades(qtbot, window, tmp_path, shapes_folder):
    Trainer.new(tmp_path / "done", tiny_config(shapes_folder, loss="logistic")).run()
    window.open_run(str(tmp_path / "done"))
    plots = window.training_page.plots
    qtbot.mouseClick(plots.log_y, Qt.LeftButton, pos=plots.log_y.rect().center())
    assert plots.log_y.isChecked()
    axis = plots.loss_plot.getAxis("left")
    (lo, hi) = plots.loss_plot.vb.viewRange()[1]
    ticks = axis.tickValues(lo, hi, 300)[0][1]
    assert len(ticks) >= 3 and all(lo <= t <= hi for t in ticks)
    labels = axis.tickStrings(ticks, 1, 1)
    assert all(float(label) > 0 for label in labels)            # losses, not their logarithms
