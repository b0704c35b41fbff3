"""The window fits a 1280x720 screen (#16 item 6; 1024x700 and 1920x1080 too): the named controls lie inside the
viewport that shows them — nothing sits beyond a sideways scrollbar or off the window's edge, the
Start button and the reason it is disabled are visible without scrolling."""
import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QAbstractScrollArea


def visible_rect(widget):
    """The part of the window that shows ``widget``'s surroundings: the viewport of the nearest
    scroll area above it, or the window."""
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    area = parent.viewport() if parent is not None else widget.window()
    top_left = area.mapTo(widget.window(), QPoint(0, 0))
    return QRect(top_left, area.size()), parent


def place(widget):
    return QRect(widget.mapTo(widget.window(), QPoint(0, 0)), widget.size())


def check(qtbot, window, widgets, vertical=False):
    clipped = []
    for name, w in widgets.items():
        area, scroll = visible_rect(w)
        r = place(w)
        inside = area.left() <= r.left() and r.right() <= area.right()
        if vertical or scroll is None:        # no scroll area to reach it by: it must be in view
            inside = inside and area.top() <= r.top() and r.bottom() <= area.bottom()
        if not inside:
            clipped.append((name, r, area))
    return clipped


@pytest.mark.parametrize("size", [(1024, 700), (1280, 720), (1920, 1080)])
def test_everything_fits(qtbot, window, size):
    w = window
    w.resize(*size)
    qtbot.waitUntil(lambda: (w.width(), w.height()) == size, timeout=3000)
    qtbot.wait(100)
    f = w.setup_form
    assert not check(qtbot, w, {"start": f.start_button, "problems": f.problems}, vertical=True)
    fields = {name: widget for name, widget in f.widget_for_setting().items() if widget.isVisible()}
    fields.update(out_dir=f.out_dir, arch=f.arch, preset=f.preset)
    assert not check(qtbot, w, fields)
    f.arch.setCurrentIndex(f.arch.findData("stylegan2"))      # its own rows and longer labels
    qtbot.wait(100)
    fields = {name: widget for name, widget in f.widget_for_setting().items() if widget.isVisible()}
    assert {"mapping_layers", "pl_weight", "compile"} <= set(fields)
    assert not check(qtbot, w, {**fields, "demodulate": f.demodulate})
    f.arch.setCurrentIndex(f.arch.findData("progressive"))
    assert f.problems.wordWrap()
    w.tabs.setCurrentWidget(w.training_page)
    qtbot.wait(100)
    p = w.training_page
    controls = {"start": p.start_button, "pause": p.pause_button, "stop": p.stop_button, "save": p.save_button,
                "x_axis": p.plots.x_axis, "smoothing": p.plots.smoothing, "log_y": p.plots.log_y,
                "csv": p.export_csv_button, "png": p.export_png_button, "timeline": p.samples.timeline,
                "grid": p.export_grid_button, "all_grids": p.export_all_button, "timelapse": p.timelapse_button}
    assert not check(qtbot, w, controls)
    w.tabs.setCurrentWidget(w.explorer_page)
    qtbot.wait(100)
    ex = w.explorer_page
    exports = {"open": ex.open_button, "open_folder": ex.open_folder_button, "open_run": ex.open_run_button,
               "save_image": ex.save_image_button, "save_grid": ex.save_grid_button,
               "save_latent": ex.save_latent_button, "load_latent": ex.load_latent_button,
               "play": ex.play_button, "export_video": ex.export_video_button}
    assert not check(qtbot, w, exports)


@pytest.mark.parametrize("arch", ["stylegan2", "classic"])
def test_a_familys_wider_rows_widen_the_form_at_the_smallest_window(qtbot, window, arch):
    """At the window's smallest size (a first start on a small screen), a family whose rows are
    wider than those the form opened with widens the form's scroll area: the survey's rows once
    ran past its right edge, the queue button and the right-hand fields cut."""
    w, f = window, window.setup_form
    w.resize(300, 200)                         # clamped to the window's minimum
    qtbot.wait(100)
    f.arch.setCurrentIndex(f.arch.findData(arch))
    qtbot.wait(100)
    w.resize(300, 200)
    qtbot.wait(100)
    fields = {name: widget for name, widget in f.widget_for_setting().items() if widget.isVisible()}
    assert len(fields) >= 15
    assert not check(qtbot, w, {**fields, "queue": f.queue_button, "start": f.start_button, "preset": f.preset})
