"""Today's trainer reaches the state that the code before the structure refactor reached, with
that code's behaviour (the ``numerics`` set), and the state the code that set today's defaults
reached (``numerics-current``).

The fixtures (tests/numerics_fixture.py): a run folder at M kimg per case and the hash of the full
state at N. Between M and N: a fade (progressive), lazy R1 or WGAN-GP, StyleGAN2's lazy path length
and style mixing, and an out-of-memory batch split.
"""
import json
import math
import shutil

import pytest

from pgstudio.core.storage.checkpoint import load_checkpoint
from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.training.trainer import Trainer
from tests.numerics_fixture import (CASES, FIXTURES, SETS, case_config, cpu_identity, dataset, one_thread,
                                    out_of_memory_from_step, set_folder, state_hash, state_summary)

EXPECTED = {name: json.loads((set_folder(name) / "expected.json").read_text()) for name in SETS}
EVERY_CASE = [(s, c) for s in SETS for c in sorted(CASES)]


def assert_reaches_the_fixture(state: dict, case: str, fixture_set: str = "numerics") -> None:
    want = EXPECTED[fixture_set]["cases"][case]
    assert state["step"] == want["step"] and state["accum"] == want["accum"]
    if cpu_identity() == EXPECTED[fixture_set]["cpu"]:
        assert state_hash(state) == want["hash"]
        return
    # another processor rounds fp32 convolutions differently: the same run within a tolerance
    got = state_summary(state)
    assert set(got) == set(want["summary"])
    for name, (total, magnitude) in want["summary"].items():
        scale = max(magnitude, 1e-6)
        assert math.isclose(got[name][0], total, abs_tol=2e-3 * scale), name
        assert math.isclose(got[name][1], magnitude, rel_tol=2e-3, abs_tol=1e-6), name


def train(trainer, case: str) -> dict:
    oom_step = CASES[case][3]
    with out_of_memory_from_step(type(trainer.D), lambda: trainer.step, oom_step):
        assert trainer.run().reason == "max_kimg"
    return load_checkpoint(trainer.run_folder.checkpoints()[-1])


@pytest.mark.parametrize("fixture_set, case", EVERY_CASE)
def test_resuming_the_run_folder_reaches_the_state_it_was_written_with(tmp_path, fixture_set, case):
    run = tmp_path / "run"
    shutil.copytree(set_folder(fixture_set) / case / "run", run)
    with one_thread():
        trainer = Trainer.resume(run, max_kimg=EXPECTED[fixture_set]["cases"][case]["n_kimg"], dataset=dataset())
        assert_reaches_the_fixture(train(trainer, case), case, fixture_set)


@pytest.mark.parametrize("fixture_set, case", EVERY_CASE)
def test_training_from_step_zero_reaches_the_state_it_was_written_with(tmp_path, fixture_set, case):
    with one_thread():
        cfg = case_config(case, EXPECTED[fixture_set]["cases"][case]["n_kimg"], fixture_set)
        trainer = Trainer.new(tmp_path / "run", cfg, dataset=dataset())
        assert_reaches_the_fixture(train(trainer, case), case, fixture_set)


def test_the_current_set_trains_with_todays_defaults():
    """The current set pins nothing: its run folders say today's defaults, the old set's do not."""
    from pgstudio.core.config import TrainConfig
    default = TrainConfig()
    current = RunFolder(set_folder("numerics-current") / "progressive-logistic" / "run").read_config()
    old = RunFolder(FIXTURES / "progressive-logistic" / "run").read_config()
    for key, was in SETS["numerics"].items():
        assert getattr(current, key) == getattr(default, key) != was, key
        assert getattr(old, key) == was, key


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_old_run_folder_reads_as_it_was_written(case):
    run = RunFolder(FIXTURES / case / "run")
    records, _ = run.read_metrics()
    ticks = [r for r in records if r["kind"] == "tick"]
    assert ticks and ticks[-1]["kimg"] == EXPECTED["numerics"]["cases"][case]["m_kimg"]
    assert [RunFolder.checkpoint_images(p) for p in run.checkpoints()] == [64]
    assert run.read_config().arch == CASES[case][0]["arch"]


@pytest.mark.parametrize("case", ["progressive-logistic", "stylegan2"])
def test_the_old_run_folder_opens_in_the_studio(qtbot, window, tmp_path, case):
    """The studio shows a run folder the code before the refactor wrote: curves, grids,
    its checkpoint on the Checkpoints page, and that checkpoint in the explorer."""
    from PySide6.QtCore import Qt
    from tests.test_gui import click
    run = tmp_path / "old"
    shutil.copytree(FIXTURES / case / "run", run)
    page = window.checkpoints_page
    with qtbot.waitSignal(page.listed, timeout=20000):
        window.open_run(str(run))
    history = window.training_page.history
    assert history.kimg[-1] == EXPECTED["numerics"]["cases"][case]["m_kimg"] and len(history.samples) == 2
    assert history.shows_regularisers == (case == "stylegan2")
    window.tabs.setCurrentWidget(page)
    assert page.table.rowCount() == 1 and page.row_status(0) == "ok"
    rect = page.table.visualItemRect(page.table.item(0, 2))
    qtbot.mouseClick(page.table.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
    click(qtbot, page.buttons["explore"])
    explorer = window.explorer_page
    qtbot.waitUntil(lambda: explorer.source is not None, timeout=10000)
    assert explorer.source.kimg == pytest.approx(EXPECTED["numerics"]["cases"][case]["m_kimg"])
    assert ("StyleGAN2" if case == "stylegan2" else "Progressive GAN") in explorer.source_label.text()
