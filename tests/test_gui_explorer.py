"""Explorer and checkpoint manager, driven through their widgets."""
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from pgstudio.core.analysis.export import read_provenance
from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.training.trainer import Trainer
from tests.conftest import tiny_config
from tests.test_gui import choose_demo_tiny, click


FAMILIES = {"progressive": {}, "stylegan2": dict(arch="stylegan2", loss="logistic", mapping_layers=2)}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def trained(request, tmp_path_factory, shapes_folder):
    """A finished tiny run of each family: the explorer and checkpoint tests run once per family."""
    out = tmp_path_factory.mktemp("ex") / "run"
    Trainer.new(out, tiny_config(shapes_folder, max_kimg=0.3, checkpoint_kimg=0.128, **FAMILIES[request.param])).run()
    return out


def changed_after(qtbot, signal, view, action):
    before = view.array().copy()
    with qtbot.waitSignal(signal, timeout=10000):
        action()
    return not np.array_equal(before, view.array())


@pytest.mark.reports_errors
def test_explorer_seed_truncation_directions_and_png(qtbot, window, trained, tmp_path, monkeypatch):
    ex = window.explorer_page
    ckpt = RunFolder(trained).checkpoints()[-1]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(ckpt), ""))
    window.tabs.setCurrentWidget(ex)
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        click(qtbot, ex.open_button)
    assert ex.view.array().shape == (8, 8, 3)
    qtbot.waitUntil(lambda: ex.seed_grid.array() is not None, timeout=10000)
    assert changed_after(qtbot, ex.image_rendered, ex.view, lambda: qtbot.keyClick(ex.seed, Qt.Key_Up))
    assert ex.seed.value() == 1
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        qtbot.mouseClick(ex.truncate, Qt.LeftButton, pos=ex.truncate.rect().center())
    assert ex.truncate.isChecked()
    assert changed_after(qtbot, ex.image_rendered, ex.view, lambda: [qtbot.keyClick(ex.psi, Qt.Key_PageDown)
                                                                   for _ in range(5)])
    click(qtbot, ex.compute_button)
    qtbot.waitUntil(lambda: ex.dir_sliders[0].isEnabled(), timeout=30000)
    assert changed_after(qtbot, ex.image_rendered, ex.view, lambda: [qtbot.keyClick(ex.dir_sliders[0], Qt.Key_PageUp)
                                                                   for _ in range(2)])
    assert ex.dir_values[0].text() == f"{ex.dir_sliders[0].value() / 10:+.1f}σ" != "+0.0σ"   # the offset, shown
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "img.png"), ""))
    click(qtbot, ex.save_image_button)
    meta = read_provenance(tmp_path / "img.png")
    assert meta["seed"] == 1 and meta["psi"] == ex.psi_value() and meta["checkpoint"] == str(ckpt)
    assert meta["arch"] == RunFolder(trained).read_config().arch
    assert meta["direction_offsets"]["PC1"] == ex.dir_sliders[0].value() / 10
    # the seed grid selects a seed on click
    rect = ex.seed_grid.target_rect()
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        qtbot.mouseClick(ex.seed_grid, Qt.LeftButton, pos=rect.topLeft() + (rect.bottomRight() - rect.topLeft()) * 0.9)
    assert ex.seed.value() == ex.first_seed.value() + 15
    assert ex.seed_grid.highlight == (15, 4)                  # the chosen seed is outlined in the grid
    ex.seed.setValue(ex.first_seed.value() + 40)
    assert ex.seed_grid.highlight is None                     # not one of the grid's seeds
    ex.seed.setValue(ex.first_seed.value() + 15)
    # another generator does not inherit these directions; a run folder opens at its newest checkpoint
    older = RunFolder(trained).checkpoints()[0]
    assert older != ckpt
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(older), ""))
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        click(qtbot, ex.open_button)
    assert not ex.dir_sliders[0].isEnabled() and ex.dir_values[0].text() == "+0.0σ"
    assert "directions cleared" in window.statusBar().currentMessage()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(trained))
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        click(qtbot, ex.open_folder_button)
    assert ckpt.name in ex.source_label.text()
    assert not ex.open_run_button.isEnabled()                 # no run open in the window yet
    window.open_run(str(trained))
    window.tabs.setCurrentWidget(ex)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(older), ""))
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        click(qtbot, ex.open_button)
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        click(qtbot, ex.open_run_button)                      # the open run's newest, in one click
    assert ckpt.name in ex.source_label.text()
    # a render that fails (here: the generator raises) is reported in the status bar
    import pgstudio.gui.explorer.page as explorer_module

    def broken(*args, **kwargs):
        raise RuntimeError("generator exploded")
    monkeypatch.setattr(explorer_module, "render", broken)        # progressive
    monkeypatch.setattr(explorer_module, "map_to_w", broken)      # StyleGAN2
    ex.seed.setValue(ex.seed.value() + 1)
    qtbot.waitUntil(lambda: "render failed: RuntimeError: generator exploded" in window.statusBar().currentMessage(),
                    timeout=10000)
    # and, as every error, in the log panel and the list the suite checks (this test expects it)
    from pgstudio.gui.common.errors import reported_errors
    qtbot.waitUntil(lambda: "generator exploded" in window.training_page.log.toPlainText(), timeout=5000)
    assert ("render job selected", "RuntimeError: generator exploded") in reported_errors()


def test_checkpoint_list_flags_damaged_and_compares(qtbot, window, trained, tmp_path):
    import shutil
    run = tmp_path / "copy"
    shutil.copytree(trained, run)
    (run / "checkpoints" / "ckpt-9999999999.pt").write_bytes(b"not a checkpoint at all")
    page = window.checkpoints_page
    with qtbot.waitSignal(page.listed, timeout=20000):
        window.open_run(str(run))
    window.tabs.setCurrentWidget(page)
    n = page.table.rowCount()
    statuses = [page.row_status(r) for r in range(n)]
    assert statuses[-1].startswith("damaged") and statuses[:-1] == ["ok"] * (n - 1)
    assert page.table.cellWidget(0, 0).pixmap() is not None
    # select two good rows with clicks, compare them
    for row, mod in ((0, Qt.NoModifier), (n - 2, Qt.ControlModifier)):
        rect = page.table.visualItemRect(page.table.item(row, 2))
        qtbot.mouseClick(page.table.viewport(), Qt.LeftButton, mod, rect.center())
    assert len(page.selected_paths()) == 2
    click(qtbot, page.buttons["compare"])
    dlg = page.compare_dialog
    assert all(v.array() is not None for v in dlg.views)
    assert not np.array_equal(dlg.views[0].array(), dlg.views[1].array())
    # the damaged row can be selected without trouble but not explored
    rect = page.table.visualItemRect(page.table.item(n - 1, 2))
    qtbot.mouseClick(page.table.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
    assert not page.buttons["explore"].isEnabled() and page.buttons["delete"].isEnabled()
    # MS-SWD of one checkpoint in the background; its progress bar moves in the GUI thread only
    import threading
    threads, messages = set(), []
    page.progress.valueChanged.connect(lambda v: threads.add(threading.current_thread().name))
    page.status.connect(messages.append)
    rect = page.table.visualItemRect(page.table.item(0, 2))
    qtbot.mouseClick(page.table.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
    click(qtbot, page.buttons["swd"])
    qtbot.waitUntil(lambda: any("MS-SWD" in m for m in messages), timeout=60000)
    assert messages[-1].startswith("MS-SWD ×1000 of") and page.progress.isHidden()
    assert threads == {threading.main_thread().name}


def test_explorer_follows_live_training(qtbot, window, tmp_path):
    choose_demo_tiny(qtbot, window, tmp_path / "live", stabilize=50)
    click(qtbot, window.setup_form.start_button)
    ex = window.explorer_page
    window.tabs.setCurrentWidget(ex)
    qtbot.mouseClick(ex.follow_live, Qt.LeftButton, pos=ex.follow_live.rect().center())
    assert ex.follow_live.isChecked()
    qtbot.waitUntil(lambda: ex.source is not None and ex.source.label == "live training", timeout=60000)
    first = ex.source.kimg
    qtbot.waitUntil(lambda: ex.source.kimg > first and ex.view.array() is not None, timeout=60000)
    window.training_page.shutdown()


def test_stylegan2_noise_modes_and_style_mixing_grid(qtbot, window, shapes_folder, tmp_path, monkeypatch):
    cfg = tiny_config(shapes_folder, arch="stylegan2", loss="logistic", mapping_layers=2, max_kimg=0.1,
                      resolution=16)                  # 16x16: coarse (4-8) and middle (16) layers both exist
    Trainer.new(tmp_path / "sg2", cfg).run()
    ex = window.explorer_page
    ckpt = RunFolder(tmp_path / "sg2").checkpoints()[-1]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(ckpt), ""))
    window.tabs.setCurrentWidget(ex)
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        click(qtbot, ex.open_button)
    assert ex.mixing_box.isVisible() and ex.noise_mode.isVisible() and "mean w" in ex.truncate.text()
    for module in ex.source.generator.modules():       # make the noise visible in a barely trained net
        if hasattr(module, "strength"):
            module.strength.data.fill_(1.0)
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        qtbot.keyClick(ex.seed, Qt.Key_Up)            # re-render with the stronger noise
    seed0 = ex.view.array().copy()
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        ex.seed.setValue(2)
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        ex.seed.setValue(1)
    assert np.array_equal(seed0, ex.view.array())     # fixed noise: the same image every time
    ex.noise_mode.setFocus()
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        qtbot.keyClick(ex.noise_mode, Qt.Key_Down)    # random noise
    assert ex.noise_mode.currentData() == "random"
    first_random = ex.view.array().copy()
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        ex.seed.setValue(2)
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        ex.seed.setValue(1)
    assert not np.array_equal(first_random, ex.view.array())
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        qtbot.keyClick(ex.noise_mode, Qt.Key_Down)    # no noise
    assert ex.noise_mode.currentData() == "none"

    # style mixing: rows x columns with the coarse layers from the columns
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        ex.noise_mode.setCurrentIndex(0)
    ex.mix_rows.setText("0, 1")
    ex.mix_cols.setText("5, 6, 7")
    ex.mix_band.setCurrentIndex(ex.mix_band.findData("coarse"))
    assert (ex.mix_from.value(), ex.mix_to.value()) == (0, 3)
    with qtbot.waitSignal(ex.mixing_rendered, timeout=10000):
        click(qtbot, ex.mix_button)
    grid = ex.view.array()
    cell = 16 + 2
    assert grid.shape[0] == 3 * cell + 2 and grid.shape[1] == 4 * cell + 2    # header row/col + 2x3 cells
    coarse = grid.copy()
    ex.mix_band.setCurrentIndex(ex.mix_band.findData("middle"))
    assert ex.mix_from.value() == 3
    with qtbot.waitSignal(ex.mixing_rendered, timeout=10000):
        click(qtbot, ex.mix_button)
    assert not np.array_equal(coarse[cell:, cell:], ex.view.array()[cell:, cell:])
    assert np.array_equal(coarse[:cell], ex.view.array()[:cell])   # the column sources are the same
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "mix.png"), ""))
    click(qtbot, ex.save_image_button)
    meta = read_provenance(tmp_path / "mix.png")
    assert meta["style_mixing"] == {"rows": [0, 1], "columns": [5, 6, 7], "layers": [3, 6]} and "seed" not in meta
    # a live refresh (new weights of the same run) redraws the style-mixing grid, not one seed
    from PySide6.QtCore import QSignalBlocker
    from pgstudio.core.training.events import GeneratorSnapshotEvent
    from pgstudio.core.storage.checkpoint import load_checkpoint
    state = load_checkpoint(ckpt)
    with QSignalBlocker(ex.follow_live):
        ex.follow_live.setChecked(True)
    with qtbot.waitSignal(ex.mixing_rendered, timeout=10000):
        ex.take_snapshot(GeneratorSnapshotEvent(state["architecture"], state["generator_ema"], 4, 1.0, 0.1))
    assert ex.view.array().shape == (3 * cell + 2, 4 * cell + 2, 3) and ex.view_mixing is not None
    with QSignalBlocker(ex.follow_live):
        ex.follow_live.setChecked(False)
    qtbot.keyClick(ex.mix_to, Qt.Key_Down)                          # editing the range makes it custom
    assert ex.mix_band.currentData() == "custom"
    # interpolation in w renders frames
    ex.interp_space.setCurrentIndex(ex.interp_space.findData("w"))
    ex.frames_per_segment.setValue(3)
    # (not waitSignal on the worker's own signal: pytest-qt's handler would run in the worker
    # thread and can quit the wait loop before it starts, leaving the test waiting forever)
    click(qtbot, ex.play_button)
    qtbot.waitUntil(lambda: len(ex.frames) == 6, timeout=10000)
    click(qtbot, ex.play_button)


def click_group_box_check(qtbot, box):
    """Click a checkable group box's own check box, where the style draws it."""
    from PySide6.QtWidgets import QStyle, QStyleOptionGroupBox
    option = QStyleOptionGroupBox()
    box.initStyleOption(option)
    rect = box.style().subControlRect(QStyle.CC_GroupBox, option, QStyle.SC_GroupBoxCheckBox, box)
    qtbot.mouseClick(box, Qt.LeftButton, pos=rect.center())


@pytest.mark.parametrize("run_fixture", ["progressive_run", "stylegan_run"])
def test_the_layer_view_shows_any_layer_live_as_the_latent_moves(qtbot, window, request, run_fixture, tmp_path,
                                                                 monkeypatch):
    """Switched on, the explorer's Layers box lists G's feature maps, shows the last one before the
    image with its spectrum; another layer, the seed moving, one channel: each redraws it."""
    run = request.getfixturevalue(run_fixture)
    ex, box = window.explorer_page, window.explorer_page.layers_box
    window.tabs.setCurrentWidget(ex)
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        ex.open_path(str(run))
    assert box.activation.array() is None
    box.ensurePolished()
    with qtbot.waitSignal(ex.layers_rendered, timeout=10000):
        click_group_box_check(qtbot, box)
    assert box.isChecked()
    keys = [box.layer.itemData(i) for i in range(box.layer.count())]
    assert len(keys) >= 6 and box.layer.currentData() in keys
    shown = next(l for l in box.layers if l.key == box.layer.currentData())
    assert shown.channels > 3 and shown.height == 8                    # the last map before the image
    assert box.activation.array().shape == (8, 8, 3) and box.spectrum.array().shape == (8, 8, 3)
    assert shown.label in box.caption.text() and "peak ratio" in box.caption.text()
    # another layer: a 4x4 one, chosen with the keyboard
    box.layer.setFocus()
    with qtbot.waitSignal(ex.layers_rendered, timeout=10000):
        qtbot.keyClick(box.layer, Qt.Key_Home)
    first = box.layers[0]
    assert box.layer.currentData() == first.key and box.activation.array().shape[:2] == (first.height, first.width)
    assert first.label in box.caption.text()
    # live: the seed moves, the map changes
    assert changed_after(qtbot, ex.layers_rendered, box.activation, lambda: qtbot.keyClick(ex.seed, Qt.Key_Up))
    # one channel: the channel box opens and picks what is drawn
    box.view_kind.setFocus()
    with qtbot.waitSignal(ex.layers_rendered, timeout=10000):
        qtbot.keyClick(box.view_kind, Qt.Key_End)
    assert box.view_kind.currentData() == "channel" and box.channel.isEnabled()
    assert "channel 0" in box.caption.text()
    with qtbot.waitSignal(ex.layers_rendered, timeout=10000):
        qtbot.keyClick(box.channel, Qt.Key_Up)
    assert "channel 1" in box.caption.text()
    # saved: the map and its spectrum side by side, with what they show in the PNG's text
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "layer.png"), ""))
    click(qtbot, box.save_button)
    meta = read_provenance(tmp_path / "layer.png")
    assert meta["layer"] == first.key and meta["layer_view"] == "channel" and meta["layer_channels"] == [1]
    assert meta["seed"] == ex.seed.value() and meta["peak_ratio"] == round(box.picture.peak_ratio, 3)
    from PIL import Image
    saved = np.asarray(Image.open(tmp_path / "layer.png"))
    k = 256 // first.height
    assert saved.shape[0] == first.height * k and saved.shape[1] == 2 * first.width * k + 8
    np.testing.assert_array_equal(saved[::k, :first.width * k:k], box.activation.array())
    # off: nothing traced while the seed moves
    click_group_box_check(qtbot, box)
    assert not box.isChecked()
    with qtbot.assertNotEmitted(ex.layers_rendered, wait=500):
        with qtbot.waitSignal(ex.image_rendered, timeout=10000):
            qtbot.keyClick(ex.seed, Qt.Key_Up)
