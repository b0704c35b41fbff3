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
