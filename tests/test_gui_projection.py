"""Explorer → Project image…: the dialog converges live, Stop keeps the best so far, the projected
latent becomes the explorer's current point (directions move it, it interpolates with a seed and
with another projection), and Save writes the latent and the reconstruction. Both families."""
import json

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog

from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.training.trainer import Trainer
from tests.conftest import tiny_config
from tests.test_gui import click

FAMILIES = {"progressive": {}, "stylegan2": dict(arch="stylegan2", loss="logistic", mapping_layers=2)}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def trained(request, tmp_path_factory, shapes_folder):
    out = tmp_path_factory.mktemp("pj") / "run"
    Trainer.new(out, tiny_config(shapes_folder, max_kimg=0.3, checkpoint_kimg=0.128, classes="off",
                                 **FAMILIES[request.param])).run()
    return out


def _drop(widget, path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(5, 5), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    widget.dropEvent(event)


def test_project_an_image_then_explore_and_interpolate_it(qtbot, window, trained, shapes_folder, tmp_path,
                                                           monkeypatch):
    ex = window.explorer_page
    window.tabs.setCurrentWidget(ex)
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        ex.open_path(str(RunFolder(trained).checkpoints()[-1]))
    images = sorted(shapes_folder.rglob("*.png"))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(images[0]), ""))
    click(qtbot, ex.project_button)
    dialog = ex.projection_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    click(qtbot, dialog.choose_button)
    assert dialog.target_view.array().shape == (8, 8, 3)
    assert "D features" in dialog.info.text()          # a checkpoint has its discriminator
    dialog.steps.selectAll()
    qtbot.keyClicks(dialog.steps, "40")
    click(qtbot, dialog.start_button)
    assert dialog.running() and dialog.stop_button.isEnabled() and not dialog.use_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.running(), timeout=60000)
    result = dialog.result
    assert result is not None and result.steps_done == 40 and not result.stopped
    assert np.array_equal(dialog.recon_view.array(), result.image)
    assert dialog.loss_curve.getData()[0].size == 40                   # the curve has every step
    assert "PSNR" in dialog.info.text()

    # the projected latent is the current point: the explorer draws the reconstruction
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        click(qtbot, dialog.use_button)
    assert np.abs(ex.view.array().astype(int) - result.image.astype(int)).max() <= 1
    assert ex.caption.text().startswith("p1 ") and "p1" in ex.projected_label.text()
    # a principal direction moves it
    click(qtbot, ex.compute_button)
    qtbot.waitUntil(lambda: ex.dir_sliders[0].isEnabled(), timeout=30000)
    before = ex.view.array().copy()
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        for _ in range(3):
            qtbot.keyClick(ex.dir_sliders[0], Qt.Key_PageUp)
    assert not np.array_equal(before, ex.view.array())

    if ex.stylegan:
        # a projection mixes like a seed: row p1 with the column seeds' fine styles
        ex.mix_rows.setText("p1")
        ex.mix_cols.setText("0, 1")
        with qtbot.waitSignal(ex.mixing_rendered, timeout=20000):
            click(qtbot, ex.mix_button)
        assert ex.view_mixing["rows"] == ["p1"] and ex.view_mixing["columns"] == [0, 1]
        top = 2 + 8 + 2                                   # the second row of the grid: row sources
        row_image = ex.view.array()[top:top + 8, 2:2 + 8]
        assert np.abs(row_image.astype(int) - result.image.astype(int)).max() <= 1
        with qtbot.waitSignal(ex.image_rendered, timeout=10000):
            for _ in range(3):                            # back to the image: directions reset
                qtbot.keyClick(ex.dir_sliders[0], Qt.Key_PageDown)

    # Stop keeps the best so far; a dropped image is the next target
    _drop(dialog, images[1])
    assert dialog.file_label.text() == images[1].name and dialog.result is None
    dialog.steps.setValue(5000)
    click(qtbot, dialog.start_button)
    qtbot.waitUntil(lambda: len(dialog._losses) >= 15, timeout=30000)
    click(qtbot, dialog.stop_button)
    qtbot.waitUntil(lambda: not dialog.running(), timeout=30000)
    assert dialog.result.stopped and 15 <= dialog.result.steps_done < 5000 and "stopped" in dialog.info.text()
    click(qtbot, dialog.use_button)
    assert "p2" in ex.projected_label.text()

    # interpolate between the two projections and a seed
    ex.keyframes.setText("p1, 3, p2")
    ex.frames_per_segment.setValue(4)
    click(qtbot, ex.play_button)
    qtbot.waitUntil(lambda: len(ex.frames) == 8, timeout=20000)
    assert np.abs(ex.frames[0].astype(int) - result.image.astype(int)).max() <= 1    # starts on p1
    click(qtbot, ex.play_button)
    ex.keyframes.setText("p1, p9")
    messages = []
    ex.status.connect(messages.append)
    click(qtbot, ex.play_button)
    assert messages and "p9" in messages[-1]

    # Save: the latent with its provenance and both PNGs
    assert dialog.save_to(str(tmp_path / "saved"))
    meta = json.loads((tmp_path / "saved" / "latent.json").read_text())
    assert meta["stopped_early"] and meta["space"] == dialog.result.space
    assert np.load(tmp_path / "saved" / "latent.npy").shape == dialog.result.latent.shape
    assert (tmp_path / "saved" / "reconstruction.png").exists()

    # another generator: the projections (and the dialog made for the old one) go
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        ex.open_path(str(RunFolder(trained).checkpoints()[0]))
    assert ex.projection_dialog is None and not dialog.isVisible()
    assert "none yet" in ex.projected_label.text() and not ex.caption.text().startswith("p")


def test_an_unreadable_image_is_said_in_the_dialog_and_nothing_starts(qtbot, window, trained, tmp_path):
    ex = window.explorer_page
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        ex.open_path(str(trained))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    _drop(ex, bad)                                   # dropped on the explorer: the dialog opens with it
    dialog = ex.projection_dialog
    assert dialog is not None and dialog.isVisible()
    assert "bad.png" in dialog.info.text() and not dialog.start_button.isEnabled()
    dialog.close()
