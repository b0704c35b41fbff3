"""The run form's "start from a trained model" and augment auto, driven through the widgets; the
Checkpoints page says where the run started."""
from PySide6.QtCore import Qt

from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.training.trainer import Trainer
from tests.conftest import tiny_config
from tests.test_gui import choose_demo_tiny, click


def test_start_from_a_trained_model_in_the_run_form(qtbot, window, tmp_path, shapes_folder):
    origin = tmp_path / "origin"
    assert Trainer.new(origin, tiny_config(shapes_folder, loss="logistic")).run().reason == "completed"
    w, f = window, window.setup_form
    choose_demo_tiny(qtbot, w, tmp_path / "run")
    # auto augmentation says what it chose for this data set before the run starts
    assert f.augment.currentData() == "auto"
    assert "networks this narrow" in f.augment_note.text()   # the laptop widths: measured better without
    f.fmap_max.setValue(128)
    assert "2,003 images is below" in f.augment_note.text() and "100 of them are held out" in f.augment_note.text()
    f.augment.setCurrentIndex(f.augment.findData("ada"))      # chosen: the note says what r_v holds out
    assert "r_v holds 100 of the 2,003 images out of training" in f.augment_note.text()
    f.augment.setCurrentIndex(f.augment.findData("auto"))
    f.fmap_max.setValue(32)                  # differs from the model: taken from it when it is chosen
    f.start_from.setFocus()
    qtbot.keyClicks(f.start_from, str(origin))
    qtbot.keyClick(f.start_from, Qt.Key_Return)
    assert f.fmap_max.value() == 16 and f.latent.value() == 16
    assert "started from origin/ckpt-" in f.origin_note.text()
    assert f.start_button.isEnabled(), f.problems_text()
    f.fmap_max.setValue(32)                  # a change the model cannot follow is refused, on its field
    assert not f.start_button.isEnabled()
    assert "fmap max: the trained model has 16, this run 32" in f.problems_text()
    assert "border" in f.fmap_max.styleSheet()
    f.fmap_max.setValue(16)
    f.freeze_d.setValue(1)
    assert "1 highest-resolution block frozen" in f.origin_note.text()
    click(qtbot, f.start_button)
    page = w.training_page
    qtbot.waitUntil(lambda: not page.is_training() and bool(RunFolder(tmp_path / "run").checkpoints()),
                    timeout=60000)
    cfg = RunFolder(tmp_path / "run").read_config()
    assert cfg.start_from["kind"] == "checkpoint" and cfg.freeze_d == 1
    assert cfg.augment == "off" and "networks this narrow" in cfg.augment_reason   # the model's 16 feature maps
    w.tabs.setCurrentWidget(w.checkpoints_page)
    label = w.checkpoints_page.origin
    qtbot.waitUntil(label.isVisible, timeout=5000)
    assert "started from origin/ckpt-" in label.text() and "(G, D and EMA" in label.text()


def test_an_unusable_model_to_start_from_is_named_on_its_field(qtbot, window, tmp_path):
    w, f = window, window.setup_form
    choose_demo_tiny(qtbot, w, tmp_path / "run")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    f.start_from.setFocus()
    qtbot.keyClicks(f.start_from, str(tmp_path / "junk.pt"))
    qtbot.keyClick(f.start_from, Qt.Key_Return)
    assert not f.start_button.isEnabled()
    assert "junk.pt" in f.problems_text() and "border" in f.start_from.styleSheet()
    f.start_from.clear()
    qtbot.keyClick(f.start_from, Qt.Key_Return)            # empty: from scratch again
    assert f.start_button.isEnabled(), f.problems_text()
    assert not f.origin_note.isVisible()
