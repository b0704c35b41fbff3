"""The classic family in the studio: the run form offers the survey's papers and fills their
settings; a run trains in the window with its own plot; an opened run shows on every page."""
import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
import pytest

from pgstudio.core.families import family
from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.training.trainer import Trainer
from tests.conftest import tiny_config
from tests.journeys.test_journeys import assert_every_checkpoint_row_filled, go_to_page, open_through_recent_menu
from tests.test_gui import choose_demo_tiny, click


def choose(combo, data):
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def test_the_form_offers_each_paper_and_fills_its_settings(qtbot, window):
    f = window.setup_form
    assert [f.preset.itemData(i) for i in range(f.preset.count())] == ["laptop", "paper"]
    assert not f.model_rows.n_critic.isVisible()
    choose(f.arch, "classic")
    papers = list(family("classic").papers)
    assert [f.preset.itemData(i) for i in range(f.preset.count())] == ["laptop", "paper"] + papers
    assert f.preset.itemText(2 + papers.index("wgan")) == "WGAN (Arjovsky et al. 2017)"
    assert f.model_rows.g_arch.isVisible() and f.model_rows.n_critic.isVisible()
    choose(f.preset, "wgan")
    rows = f.model_rows
    assert rows.optimizer.currentData() == "rmsprop" and rows.n_critic.value() == 5
    assert rows.wgan_clip.value() == pytest.approx(0.01) and f.loss.currentText() == "wgan"
    assert f.lr.value() == pytest.approx(5e-5)
    assert f.paper_note.isVisible() and "Arjovsky et al. 2017" in f.paper_note.text() and "clipped" in f.paper_note.text()
    cfg, _ = f.build()
    assert (cfg.arch, cfg.loss, cfg.optimizer, cfg.n_critic, cfg.wgan_clip) == ("classic", "wgan", "rmsprop", 5, 0.01)
    # every value stays editable: a field typed over reaches the config
    rows.n_critic.clear()
    qtbot.keyClicks(rows.n_critic, "3")
    choose(rows.d_norm, "layer")
    cfg, _ = f.build()
    assert cfg.n_critic == 3 and cfg.d_norm == "layer" and cfg.preset == "wgan"
    choose(f.preset, "sagan")
    cfg, _ = f.build()
    assert (cfg.lr_default, cfg.d_lr_mult, cfg.beta1, cfg.beta2, cfg.g_spectral) == (1e-4, 4.0, 0.0, 0.9, True)
    assert rows.g_spectral.isChecked() and rows.attention_res.value() == 16
    # a model's own rows come with it: InfoGAN's codes, EBGAN's margin, BEGAN's control
    choose(f.preset, "infogan")
    assert rows.info_categorical.isVisible() and rows.info_categorical.text() == "10"
    assert rows.info_continuous.value() == 2 and not rows.ebgan_margin.isVisible()
    rows.info_categorical.clear()
    qtbot.keyClicks(rows.info_categorical, "10 3")
    cfg, _ = f.build()
    assert cfg.info_categorical == [10, 3] and cfg.d_lr_mult == pytest.approx(0.2)
    choose(f.preset, "began")
    assert rows.began_gamma.isVisible() and not rows.info_categorical.isVisible()
    cfg, _ = f.build()
    assert (cfg.loss, cfg.d_arch, cfg.began_gamma, cfg.info_categorical) == ("began", "autoencoder", 0.5, [])
    f.loss.setCurrentText("logistic")           # a loss that cannot read an autoencoder's energies
    assert "autoencoder" in f.problems.text() and rows.d_arch.styleSheet()
    choose(f.preset, "sagan")
    # a problem of the family's own settings outlines its field
    rows.attention_res.setValue(64)
    assert "self-attention" in f.problems.text() and rows.attention_res.styleSheet()
    # back to a family without papers: the preset returns to laptop and the survey's rows go
    choose(f.arch, "progressive")
    assert f.preset.currentData() == "laptop" and f.preset.count() == 2
    assert not rows.g_arch.isVisible() and not f.paper_note.isVisible()
    cfg, _ = f.build()
    assert (cfg.optimizer, cfg.n_critic, cfg.beta1, cfg.beta2) == ("adam", 1, 0.0, 0.99)   # not SAGAN's


def test_a_wgan_run_trains_in_the_window_with_its_critic_estimate(qtbot, window, tmp_path):
    w = window
    choose_demo_tiny(qtbot, w, tmp_path / "run", arch="classic")
    f = w.setup_form
    # cGAN trains on labels: the demo set has none, and the form says so rather than train without
    choose(f.preset, "cgan")
    assert "class labels" in f.problems.text() and not f.start_button.isEnabled()
    choose(f.preset, "wgan")
    f.latent.setValue(16)
    f.fmap_base.setValue(64)
    f.fmap_max.setValue(16)
    f.batch_default.setValue(16)
    f.tick.setValue(0.064)
    f.sample.setValue(0.128)
    f.max_kimg.setValue(0.384)
    f.device.setCurrentText("cpu")
    assert f.start_button.isEnabled(), f.problems.text()
    click(qtbot, f.start_button)
    page = w.training_page
    qtbot.waitUntil(lambda: len(page.history.kimg) >= 3 and page.samples.view.array() is not None, timeout=60000)
    qtbot.waitUntil(lambda: not page.is_training(), timeout=60000)
    assert page.plots.second_row == "model"
    data = page.plots.curve_data()
    assert len(data["w_distance"][0]) >= 3 and len(data["d_real"][0]) >= 3
    assert np.allclose(data["w_distance"][1][:1], data["d_real"][1][:1] - data["d_fake"][1][:1], atol=1e-6)
    assert w.status_labels["phase"].text().startswith("Classic GANs · W estimate")
    cfg = RunFolder(tmp_path / "run").read_config()
    assert (cfg.arch, cfg.loss, cfg.n_critic, cfg.optimizer) == ("classic", "wgan", 5, "rmsprop")


@pytest.fixture(scope="module")
def classic_run(tmp_path_factory, shapes_folder):
    """A conditional SNGAN-style run (two class folders, projection D) at 8x8, three checkpoints
    each with the trainer's MS-SWD."""
    out = tmp_path_factory.mktemp("journey") / "run-classic"
    cfg = tiny_config(shapes_folder, arch="classic", g_arch="resnet", d_arch="resnet", d_norm="spectral",
                      loss="hinge", n_critic=2, beta1=0.0, beta2=0.9, lr_default=2e-4, classes="on", r1_gamma=0.0,
                      max_kimg=0.384, checkpoint_kimg=0.128, metric_kimg=0.128, metric_n=16)
    assert Trainer.new(out, cfg).run().reason == "max_kimg"
    return out


def test_an_opened_classic_run_shows_on_every_page(qtbot, window, classic_run):
    w = window
    open_through_recent_menu(qtbot, w, classic_run)
    assert_every_checkpoint_row_filled(w.checkpoints_page, classic_run, 3, ("8",))
    assert w.training_page.plots.second_row == "model"
    assert len(w.training_page.plots.curve_data()["d_fake"][0]) >= 3
    for index in (0, 1, 2, 3, 4):
        go_to_page(qtbot, w, index)
    explorer = w.explorer_page
    qtbot.waitUntil(lambda: explorer.view.array() is not None, timeout=20000)
    assert explorer.source_label.text().startswith(f"{classic_run.name}/ckpt-")
    first = explorer.view.array().copy()
    assert explorer.class_choice.count() == 2                   # a conditional generator: its classes
    explorer.class_choice.setCurrentIndex(1)
    qtbot.waitUntil(lambda: not np.array_equal(explorer.view.array(), first), timeout=20000)


@pytest.fixture(scope="module")
def infogan_run(tmp_path_factory, shapes_folder):
    """A tiny InfoGAN at 8x8 (a 3-way categorical and one continuous code), one checkpoint."""
    out = tmp_path_factory.mktemp("journey") / "run-infogan"
    cfg = tiny_config(shapes_folder, arch="classic", g_arch="mlp", d_arch="mlp", d_norm="none", loss="logistic",
                      info_categorical=[3], info_continuous=1, classes="off", r1_gamma=0.0, beta1=0.5, beta2=0.999,
                      max_kimg=0.256, checkpoint_kimg=0.256)
    assert Trainer.new(out, cfg).run().reason == "max_kimg"
    return out


def test_the_explorer_gives_infogans_codes_their_own_controls(qtbot, window, infogan_run, tmp_path, monkeypatch):
    w = window
    with qtbot.waitSignal(w.checkpoints_page.listed, timeout=30000):
        w.open_run(str(infogan_run))
    data = w.training_page.plots.curve_data()                      # InfoGAN's own curve
    assert w.training_page.plots.second_row == "model" and len(data["mi_bound"][0]) >= 2
    go_to_page(qtbot, w, 2)                                         # the Explorer
    explorer = w.explorer_page
    qtbot.waitUntil(lambda: explorer.view.array() is not None, timeout=20000)
    box = explorer.codes_box
    assert box.isVisible() and len(box.categorical) == 1 and len(box.continuous) == 1
    assert box.categorical[0].count() == 3 and not box.categorical[0].isEnabled()
    with qtbot.waitSignal(explorer.image_rendered, timeout=20000):      # on the box's indicator
        qtbot.mouseClick(box.set_by_hand, Qt.LeftButton, pos=QPoint(6, box.set_by_hand.height() // 2))
    assert box.set_by_hand.isChecked() and box.categorical[0].isEnabled()
    first = explorer.view.array().copy()
    assert "codes 0 +0.00" in explorer.caption.text()
    with qtbot.waitSignal(explorer.image_rendered, timeout=20000):
        box.categorical[0].setCurrentIndex(2)
    assert not np.array_equal(explorer.view.array(), first)        # the category changes the image
    box.continuous[0].setFocus()
    with qtbot.waitSignal(explorer.image_rendered, timeout=20000):
        qtbot.keyClick(box.continuous[0], Qt.Key_PageUp)
    assert box.provenance() == {"categorical": [2], "continuous": [pytest.approx(box.continuous[0].value() / 100)]}
    assert explorer.provenance()["codes"]["categorical"] == [2]
    with qtbot.waitSignal(explorer.image_rendered, timeout=20000):
        qtbot.mouseClick(box.across_button, Qt.LeftButton)
    assert "every category" in explorer.caption.text()
    assert explorer.view.array().shape[1] > 3 * 8                   # three cells side by side


def test_three_presets_queued_on_one_folder_train_in_turn_and_overlay_on_the_runs_page(qtbot, window, tmp_path):
    from pgstudio.core.training.run_queue import RunQueue
    w = window
    choose_demo_tiny(qtbot, w, tmp_path / "queue", arch="classic")
    f = w.setup_form
    choose(f.preset, "lsgan")
    for spin, value in ((f.latent, 16), (f.fmap_base, 64), (f.fmap_max, 16), (f.batch_default, 16),
                        (f.tick, 0.032), (f.sample, 0.064), (f.max_kimg, 0.096)):
        spin.setValue(value)
    f.device.setCurrentText("cpu")
    click(qtbot, f.queue_button)
    dialog = f.queue_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    items = {dialog.presets.item(i).data(Qt.UserRole): dialog.presets.item(i) for i in range(dialog.presets.count())}
    assert items["lsgan"].checkState() == Qt.Checked and "as the form shows it" in items["lsgan"].text()
    for name in ("dcgan", "wgan-gp"):
        items[name].setCheckState(Qt.Checked)
    dialog.seeds.setText("0")
    assert dialog.ok.text() == "Queue 3 runs"
    click(qtbot, dialog.ok)
    page = w.training_page
    qtbot.waitUntil(lambda: page.queue is None and not page.is_training(), timeout=180000)
    queue = RunQueue(tmp_path / "queue")
    assert [(r.name, r.state) for r in queue.runs] == [("dcgan", "done"), ("wgan-gp", "done"), ("lsgan", "done")]
    assert RunFolder(tmp_path / "queue" / "lsgan").read_config().latent_size == 16        # the form's edits
    assert RunFolder(tmp_path / "queue" / "wgan-gp").read_config().n_critic == 5        # its paper's
    assert "finished: 3 done" in page.log.toPlainText()
    w.activateWindow()                                              # the dialog is gone: the window again
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    go_to_page(qtbot, w, 4)                                         # the Runs page lists the queue
    runs = w.runs_page
    qtbot.waitUntil(lambda: runs.table.rowCount() == 3, timeout=10000)
    runs.table.selectAll()
    qtbot.waitUntil(lambda: len(runs.plotted_names()) == 3, timeout=10000)
    assert sorted(runs.plotted_names()) == ["dcgan", "lsgan", "wgan-gp"]


def test_begans_four_curves_are_all_named_in_the_model_rows_legend(qtbot, window):
    """BEGAN draws four curves in the model row (D's energies on reals and fakes, k_t, M_global):
    the legend names all four inside the row at 1280×720 and leaves most of it to the curves (a
    stacked legend once showed two names and covered the plot)."""
    from pgstudio.gui.training.run_history import RunHistory
    w = window
    w.resize(1280, 720)
    w.tabs.setCurrentWidget(w.training_page)
    plots = w.training_page.plots
    history = RunHistory()
    base = dict(step=1, wall_s=1.0, resolution=16, alpha=1.0, phase="stabilize", batch=16, micro_batches=1,
                lr=1e-4, loss_d=0.5, loss_g=0.1, penalty=0.0, img_per_s=100.0, sec_per_kimg=10.0, device="cpu",
                precision="fp32", ram_mb=100.0)
    other = RunHistory()                   # first a run with other curves (an InfoGAN + WGAN mix)
    for i in range(1, 5):
        other.add_tick({**base, "kind": "tick", "kimg": 0.1 * i, "d_real": 1.0, "d_fake": -1.0, "w_distance": 2.0,
                        "mi_bound": 0.5, "pulling_away": 0.1})
    plots.refresh(other, force=True)
    for i in range(1, 20):
        history.add_tick({**base, "kind": "tick", "kimg": 0.1 * i, "d_real": 0.8 - 0.01 * i, "d_fake": 0.05,
                          "k_t": 0.001 * i, "m_global": 1.0 - 0.02 * i})
    plots.refresh(history, force=True)
    qtbot.waitUntil(lambda: plots.second_row == "model", timeout=3000)
    qtbot.wait(100)
    legend = plots.model_plot.legend
    assert [label.text for _, label in legend.items] == ["D(reals)", "D(fakes)", "k_t", "M_global"]
    colours = {sample.item.opts["pen"].color().name() for sample, _ in legend.items}
    assert len(colours) == 4, "two of the curves share a colour"
    row = plots.model_plot.vb.sceneBoundingRect()
    for sample, label in legend.items:
        box = label.sceneBoundingRect()
        assert row.contains(box), f"{label.text} lies outside the model row"
    assert legend.sceneBoundingRect().height() < 0.4 * row.height()
