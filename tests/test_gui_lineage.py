"""StyleGAN and BigGAN in the studio, as the issue's "done when" asks: a StyleGAN run started from
the run form grows from 4x4 with fades in the window and mixes styles in the explorer; a BigGAN
run on a folder of class sub-folders shows on every page, draws each class on request and
truncates with ψ; the layer view works on both."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.training.trainer import Trainer
from tests.conftest import tiny_config
from tests.journeys.test_journeys import assert_every_checkpoint_row_filled, go_to_page, open_through_recent_menu
from tests.test_gui import choose_demo_tiny, click
from tests.test_gui_classic import choose
from tests.test_gui_explorer import changed_after, click_group_box_check


def test_the_form_shows_each_new_familys_own_rows(qtbot, window):
    f, rows = window.setup_form, window.setup_form.model_rows
    choose(f.arch, "stylegan")
    assert f.mapping_layers.isVisible() and f.style_mixing.isVisible()
    assert not f.pl_weight.isVisible() and not f.resample.isVisible() and not rows.n_critic.isVisible()
    cfg, _ = f.build()
    assert (cfg.arch, cfg.loss, cfg.r1_gamma, cfg.style_mixing) == ("stylegan", "logistic", 1.0, 0.9)
    choose(f.arch, "biggan")
    assert rows.shared_dim.isVisible() and rows.ortho_reg.isVisible() and rows.attention_res.isVisible()
    assert rows.n_critic.isVisible() and rows.d_lr_mult.isVisible()
    assert not rows.conditioning.isVisible() and not rows.g_arch.isVisible()    # BigGAN's D projects, always
    assert not f.mapping_layers.isVisible()
    assert rows.shared_dim.value() == 128 and rows.ortho_reg.value() == pytest.approx(1e-4)
    choose(f.preset, "paper")
    assert f.lr.value() == pytest.approx(5e-5) and rows.d_lr_mult.value() == 4 and rows.n_critic.value() == 2
    rows.ortho_reg.setValue(0.0005)
    cfg, _ = f.build()
    assert (cfg.arch, cfg.loss, cfg.ortho_reg, cfg.shared_dim, cfg.beta2) == ("biggan", "hinge", 0.0005, 128, 0.999)
    choose(f.arch, "classic")
    assert rows.conditioning.isVisible() and not rows.shared_dim.isVisible()


def test_biggans_attention_follows_a_16px_data_set_in_the_form(qtbot, window):
    """The laptop preset puts attention at 16²; imported at 16², the form moves it to 8² (as the
    CLI does) instead of refusing the run — and a value typed by hand stays."""
    w = window
    with qtbot.waitSignal(w.dataset_panel.dataset_ready, timeout=30000):
        click(qtbot, w.dataset_panel.demo_button)
    f, rows = w.setup_form, w.setup_form.model_rows
    choose(f.arch, "biggan")
    assert rows.attention_res.value() == 16                            # at the demo's 32²
    with qtbot.waitSignal(w.dataset_panel.dataset_ready, timeout=30000):
        w.dataset_panel.resolution.setCurrentIndex(w.dataset_panel.resolution.findData(16))
    assert rows.attention_res.value() == 8 and "self-attention" not in f.problems_text()
    rows.attention_res.setValue(0)                                      # edited: kept at 32²
    with qtbot.waitSignal(w.dataset_panel.dataset_ready, timeout=30000):
        w.dataset_panel.resolution.setCurrentIndex(w.dataset_panel.resolution.findData(32))
    assert rows.attention_res.value() == 0


@pytest.mark.reports_errors
def test_a_stylegan_run_grows_with_fades_in_the_window_and_mixes_styles(qtbot, window, tmp_path):
    w = window
    choose_demo_tiny(qtbot, w, tmp_path / "run", stabilize=0.128, fade=0.128, arch="stylegan")
    f = w.setup_form
    f.checkpoint.setValue(0.128)
    click(qtbot, f.start_button)
    page = w.training_page
    qtbot.waitUntil(lambda: not page.is_training() and page.last_result is not None, timeout=120000)
    assert page.last_result.reason == "completed", page.last_result
    data = page.plots.curve_data()
    assert page.plots.second_row == "alpha"
    alphas = data["alpha"][1]
    assert any(0 < a < 1 for a in alphas) and alphas[-1] == 1       # a fade ran, and ended
    ticks = [r for r in RunFolder(tmp_path / "run").read_metrics()[0] if r["kind"] == "tick"]
    assert [t["resolution"] for t in ticks][0] == 4 and ticks[-1]["resolution"] == 8
    assert RunFolder(tmp_path / "run").read_config().arch == "stylegan"
    # the explorer: the run's newest checkpoint, in w, with the style-mixing grid
    ex = w.explorer_page
    w.tabs.setCurrentWidget(ex)
    with qtbot.waitSignal(ex.image_rendered, timeout=20000):
        ex.open_path(str(tmp_path / "run"))
    assert ex.stylegan and ex.mixing_box.isVisible() and ex.noise_mode.isVisible()
    assert ex.view.array().shape == (8, 8, 3)
    assert changed_after(qtbot, ex.image_rendered, ex.view, lambda: qtbot.keyClick(ex.seed, Qt.Key_Up))
    ex.mix_rows.setText("0, 1")
    ex.mix_cols.setText("5, 6")
    ex.mix_band.setCurrentIndex(ex.mix_band.findData("coarse"))
    with qtbot.waitSignal(ex.mixing_rendered, timeout=20000):
        click(qtbot, ex.mix_button)
    cell = 8 + 2
    coarse = ex.view.array().copy()                                   # 4²–8²: every layer of this 8x8 G
    assert coarse.shape[:2] == (3 * cell + 2, 3 * cell + 2) and (ex.mix_from.value(), ex.mix_to.value()) == (0, 4)
    ex.mix_from.setFocus()
    qtbot.keyClick(ex.mix_from, Qt.Key_Up)
    qtbot.keyClick(ex.mix_from, Qt.Key_Up)                            # only 8x8's two layers from the columns
    assert ex.mix_band.currentData() == "custom" and ex.mix_from.value() == 2
    with qtbot.waitSignal(ex.mixing_rendered, timeout=20000):
        click(qtbot, ex.mix_button)
    mixed = ex.view.array()
    assert np.array_equal(coarse[:cell], mixed[:cell])                # the same column sources
    assert not np.array_equal(coarse[cell:, cell:], mixed[cell:, cell:])


@pytest.fixture(scope="module")
def biggan_run(tmp_path_factory, shapes_folder):
    """A conditional BigGAN (the shapes folder's two class sub-folders) at 16x16 with attention at
    8x8, three checkpoints, each with the trainer's MS-SWD."""
    out = tmp_path_factory.mktemp("lineage") / "run-biggan"
    cfg = tiny_config(shapes_folder, arch="biggan", resolution=16, fmap_base=128, loss="hinge", r1_gamma=0.0,
                      n_critic=2, shared_dim=8, attention_res=8, beta1=0.0, beta2=0.999, lr_default=2e-4,
                      classes="on", batch={}, max_kimg=0.384, checkpoint_kimg=0.128, metric_kimg=0.128, metric_n=16)
    assert Trainer.new(out, cfg).run().reason == "max_kimg"
    return out


def test_an_opened_biggan_run_shows_on_every_page_and_draws_each_class(qtbot, window, biggan_run):
    w = window
    open_through_recent_menu(qtbot, w, biggan_run)
    assert_every_checkpoint_row_filled(w.checkpoints_page, biggan_run, 3, ("16",))
    assert w.status_labels["phase"].text().startswith("BigGAN · orthogonal penalty")
    assert w.training_page.plots.second_row == "model"                 # D's scores, not a flat α track
    assert len(w.training_page.plots.curve_data()["d_real"][0]) >= 3
    for index in (0, 1, 2, 3, 4):
        go_to_page(qtbot, w, index)
    ex = w.explorer_page
    qtbot.waitUntil(lambda: ex.view.array() is not None, timeout=20000)
    assert not ex.stylegan and not ex.mixing_box.isVisible()
    assert [ex.class_choice.itemText(i) for i in range(ex.class_choice.count())] == ["discs", "squares"]
    first = ex.view.array().copy()
    with qtbot.waitSignal(ex.image_rendered, timeout=20000):
        ex.class_choice.setCurrentIndex(1)                           # the other class, on request
    assert not np.array_equal(first, ex.view.array())
    # truncation: ψ is a threshold on z, values beyond it redrawn
    with qtbot.waitSignal(ex.image_rendered, timeout=20000):
        qtbot.mouseClick(ex.truncate, Qt.LeftButton, pos=ex.truncate.rect().center())
    assert ex.truncate.isChecked() and ex.z_truncation() == pytest.approx(ex.psi_value())
    assert changed_after(qtbot, ex.image_rendered, ex.view, lambda: [qtbot.keyClick(ex.psi, Qt.Key_PageDown)
                                                                   for _ in range(5)])
    assert float(ex.current_latent().abs().max()) < ex.psi_value()
    # the layer view: BigGAN's blocks and its attention, no spectral-norm weights among them
    box = ex.layers_box
    with qtbot.waitSignal(ex.layers_rendered, timeout=20000):
        click_group_box_check(qtbot, box)
    keys = [box.layer.itemData(i) for i in range(box.layer.count())]
    assert "attention.8" in keys and any(k.startswith("blocks.1") for k in keys)
    assert not any("parametrizations" in k for k in keys)
    with qtbot.waitSignal(ex.layers_rendered, timeout=20000):
        box.layer.setCurrentIndex(keys.index("attention.8"))
    assert box.activation.array().shape == (8, 8, 3) and "attention.8" in box.caption.text()
    click_group_box_check(qtbot, box)


def test_the_form_offers_stylegan2s_d_block_and_an_opened_runs_choice_comes_back(qtbot, window):
    """The official block by default; the earlier one chosen with the keyboard reaches the config;
    "Settings of the open run" (apply_settings) brings a run's block back; other families hide it."""
    f, rows = window.setup_form, window.setup_form.model_rows
    choose(f.arch, "progressive")
    assert not rows.d_block.isVisible()
    choose(f.arch, "stylegan2")
    assert rows.d_block.isVisible() and rows.d_block.currentData() == "blur-stride"
    assert f.build()[0].d_block == "blur-stride"
    rows.d_block.setFocus()
    qtbot.keyClick(rows.d_block, Qt.Key_Down)
    cfg, _ = f.build()
    assert (cfg.arch, cfg.d_block) == ("stylegan2", "fir-then-conv")
    choose(f.preset, "paper")                   # a preset that does not set the block keeps the user's
    assert f.build()[0].d_block == "fir-then-conv"
    f.apply_settings(cfg.replace(d_block="blur-stride"))
    assert rows.d_block.currentData() == "blur-stride" and f.build()[0].d_block == "blur-stride"
    f.apply_settings(cfg)
    assert rows.d_block.currentText().startswith("downsample")
