"""Today's trainer reaches the state that the code before the structure refactor reached.

The fixtures (tests/numerics_fixture.py) were written by that code: a run folder at M kimg per case
and the hash of the full state at N. Between M and N: a fade (progressive), lazy R1 or WGAN-GP,
StyleGAN2's lazy path length and style mixing, and an out-of-memory batch split.
"""
import json
import math
import shutil

import pytest

from pgstudio.core.storage.checkpoint import load_checkpoint
from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.training.trainer import Trainer
from tests.numerics_fixture import (CASES, FIXTURES, case_config, cpu_identity, dataset, one_thread,
                                    out_of_memory_from_step, state_hash, state_summary)

EXPECTED = json.loads((FIXTURES / "expected.json").read_text())


def assert_reaches_the_fixture(state: dict, case: str) -> None:
    want = EXPECTED["cases"][case]
    assert state["step"] == want["step"] and state["accum"] == want["accum"]
    if cpu_identity() == EXPECTED["cpu"]:
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


@pytest.mark.parametrize("case", sorted(CASES))
def test_resuming_the_old_run_folder_reaches_the_old_state(tmp_path, case):
    run = tmp_path / "run"
    shutil.copytree(FIXTURES / case / "run", run)
    with one_thread():
        trainer = Trainer.resume(run, max_kimg=EXPECTED["cases"][case]["n_kimg"], dataset=dataset())
        assert_reaches_the_fixture(train(trainer, case), case)


@pytest.mark.parametrize("case", sorted(CASES))
def test_training_from_step_zero_reaches_the_old_state(tmp_path, case):
    with one_thread():
        trainer = Trainer.new(tmp_path / "run", case_config(case, EXPECTED["cases"][case]["n_kimg"]),
                              dataset=dataset())
        assert_reaches_the_fixture(train(trainer, case), case)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_old_run_folder_reads_as_it_was_written(case):
    run = RunFolder(FIXTURES / case / "run")
    records, _ = run.read_metrics()
    ticks = [r for r in records if r["kind"] == "tick"]
    assert ticks and ticks[-1]["kimg"] == EXPECTED["cases"][case]["m_kimg"]
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
    assert history.kimg[-1] == EXPECTED["cases"][case]["m_kimg"] and len(history.samples) == 2
    assert history.shows_regularisers == (case == "stylegan2")
    window.tabs.setCurrentWidget(page)
    assert page.table.rowCount() == 1 and page.row_status(0) == "ok"
    rect = page.table.visualItemRect(page.table.item(0, 2))
    qtbot.mouseClick(page.table.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
    click(qtbot, page.buttons["explore"])
    explorer = window.explorer_page
    qtbot.waitUntil(lambda: explorer.source is not None, timeout=10000)
    assert explorer.source.kimg == pytest.approx(EXPECTED["cases"][case]["m_kimg"])
    assert ("StyleGAN2" if case == "stylegan2" else "Progressive GAN") in explorer.source_label.text()
