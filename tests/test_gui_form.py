"""The run form's duration estimate reads only the throughput measured for the networks it
estimates (#16 item 3)."""
from pgstudio.gui.common.settings import throughput_key
from tests.test_gui import choose_demo_tiny


def test_the_estimate_uses_the_throughput_of_this_family_only(qtbot, window, tmp_path):
    w, f = window, window.setup_form
    choose_demo_tiny(qtbot, w, tmp_path / "run")
    cfg, _ = f.build()
    w.studio.state.measured_throughput(throughput_key(cfg), {4: 4000.0, 8: 2000.0})
    assert "estimated duration" in f.estimate.text()
    f.arch.setCurrentIndex(f.arch.findData("stylegan2"))      # measured for the progressive nets only
    assert "known once throughput has been measured" in f.estimate.text(), f.estimate.text()
    f.arch.setCurrentIndex(f.arch.findData("progressive"))
    f.latent.setValue(16)
    f.fmap_base.setValue(64)
    f.fmap_max.setValue(16)
    f.device.setCurrentText("cpu")                            # the preset put device back to auto
    assert "estimated duration" in f.estimate.text()


def test_the_form_remembers_the_last_run_and_takes_an_open_runs_settings(qtbot, window, tmp_path, shapes_folder):
    from pgstudio.core.training.trainer import Trainer
    from pgstudio.gui.main_window import MainWindow
    from tests.conftest import tiny_config
    from tests.test_gui import click
    w, f = window, window.setup_form
    choose_demo_tiny(qtbot, w, tmp_path / "run")
    f.loss.setCurrentText("hinge")
    f.seed.setValue(77)
    f.augment.setCurrentIndex(f.augment.findData("off"))
    click(qtbot, f.start_button)
    qtbot.waitUntil(lambda: not w.training_page.is_training(), timeout=60000)
    again = MainWindow()                      # the next launch
    qtbot.addWidget(again)
    g = again.setup_form
    assert (g.loss.currentText(), g.seed.value(), g.fmap_max.value(), g.latent.value()) == ("hinge", 77, 16, 16)
    assert g.augment.currentData() == "off" and g.batch.text() == "4:16 8:16"
    # an opened run's settings, on request
    other = tmp_path / "other"
    Trainer.new(other, tiny_config(shapes_folder, loss="logistic", seed=5, fmap_max=8, max_kimg=0.064)).run()
    assert not g.from_run_button.isEnabled()
    again.open_run(str(other))
    click(qtbot, g.from_run_button)
    assert (g.loss.currentText(), g.seed.value(), g.fmap_max.value(), g.max_kimg.value()) == ("logistic", 5, 8, 0.064)
    again.close()


def test_every_field_of_the_form_says_what_it_is(qtbot, window):
    f = window.setup_form
    fields = {**f.widget_for_setting(), "out_dir": f.out_dir, "arch": f.arch, "preset": f.preset,
              "seed": f.seed, "metric_n": f.metric_n}
    silent = [name for name, widget in fields.items() if not widget.toolTip()]
    assert not silent, silent
