import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PGSTUDIO_CACHE"] = tempfile.mkdtemp(prefix="pgstudio-test-cache-")
os.environ.setdefault("PGSTUDIO_SETTINGS", tempfile.mkdtemp(prefix="pgstudio-test-settings-"))


def draw_shapes(n: int, size: int = 16, seed: int = 0) -> list[Image.Image]:
    """Coloured discs and squares on a light background: a data set with visible structure."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(n):
        img = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(200, 256, 3)))
        d = ImageDraw.Draw(img)
        c = tuple(int(v) for v in rng.integers(0, 200, 3))
        r = int(rng.integers(size // 5, size // 2))
        cx, cy = (int(v) for v in rng.integers(r, size - r + 1, 2))
        (d.ellipse if rng.random() < 0.5 else d.rectangle)([cx - r, cy - r, cx + r, cy + r], fill=c)
        images.append(img)
    return images


@pytest.fixture(autouse=True)
def collect_garbage_here(request):
    """After each GUI test, free its cyclic garbage (Qt objects among it) in this, the GUI thread,
    before the next test starts worker threads: the window turns automatic collection off
    (gui/workers.collect_garbage_in_gui_thread) and collects on a timer that only an event loop runs."""
    yield
    if "qtbot" in request.fixturenames:
        import gc
        gc.collect()


def pytest_configure(config):
    config.addinivalue_line("markers", "reports_errors: the test makes the studio report errors on purpose "
                                       "(they are checked by the test, not failed on)")


@pytest.fixture(autouse=True)
def no_silent_errors(request):
    """Nothing fails silently: an error the studio reported to the user (a worker's exception, a
    render job that raised, a row that could not be shown) fails the test that caused it, unless the
    test is marked reports_errors and checks them itself. Exceptions escaping a slot fail it through
    pytest-qt, a dying thread through pytest's thread-exception warning (an error by pyproject)."""
    import sys
    errors = sys.modules.get("pgstudio.gui.common.errors")
    if errors is not None:
        errors.clear_reported_errors()
    yield
    errors = sys.modules.get("pgstudio.gui.common.errors")
    if errors is None or request.node.get_closest_marker("reports_errors"):
        return
    reported = errors.reported_errors()
    errors.clear_reported_errors()
    if reported:
        pytest.fail("the studio reported errors during this test:\n" +
                    "\n".join(f"  {where}: {message}" for where, message in reported), pytrace=False)


@pytest.fixture(autouse=True)
def fresh_form_settings():
    """Each test's window starts as a first start would, but for its layout: the run form remembers
    the settings of the last run started, the studio the data set, dialogs' folders, opened runs and
    measured throughput — a test must not inherit another's."""
    if "pgstudio.gui.setup.form" in __import__("sys").modules:
        from pgstudio.gui.common.settings import app_settings
        from pgstudio.gui.setup.form import LAST_SETTINGS
        s = app_settings()
        for key in (LAST_SETTINGS, "data/last", "dialogs", "runs/extra", "throughput"):
            s.remove(key)
    yield


@pytest.fixture(scope="session")
def shapes_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("shapes")
    for i, img in enumerate(draw_shapes(96)):
        sub = folder / ("discs" if i % 2 else "squares")
        sub.mkdir(exist_ok=True)
        img.save(sub / f"{i:03d}.png")
    return folder


def poison_generator_loss(monkeypatch, from_call: int):
    """From its ``from_call``-th call on (1-based), the generator loss is NaN, as in a blow-up.
    Returns the real loss function, to put back with monkeypatch.setattr."""
    from pgstudio.core.training import losses
    real = losses.generator_loss
    calls = {"n": 0}

    def poisoned(kind, fake, **relativistic):
        calls["n"] += 1
        out = real(kind, fake, **relativistic)
        return out * float("nan") if calls["n"] >= from_call else out
    monkeypatch.setattr(losses, "generator_loss", poisoned)
    return real


def tiny_config(data: Path, **overrides):
    from pgstudio.core.config import TrainConfig
    # fp32 explicitly: the exact-equality tests (resume, two processes against one) are about fp32,
    # and auto would take bf16 on a CPU with native bf16; tests/test_precision.py covers the rest
    values = dict(data=str(data), resolution=8, latent_size=16, fmap_base=64, fmap_max=16,
                  loss="wgan-gp", stabilize_kimg=0.256, fade_kimg=0.256,
                  batch={4: 16, 8: 16}, batch_default=16, lr_default=0.002, ema_halflife_kimg=0.1,
                  tick_kimg=0.064, sample_kimg=0.128, checkpoint_kimg=0.256, grid_size=9, seed=3,
                  device="cpu", precision="fp32", preset="test")
    values.update(overrides)
    return TrainConfig(**values)


@pytest.fixture
def tiny_cfg(shapes_folder):
    return tiny_config(shapes_folder)


@pytest.fixture
def window(qtbot):
    """The studio window, shown; at the end it is closed and no QThread may be left running."""
    from pgstudio.gui.main_window import MainWindow
    from pgstudio.gui.common.workers import running_threads, wait_for_threads
    w = MainWindow()
    # not qtbot.addWidget: pytest-qt would close it before this fixture's teardown, and closing a
    # window whose training still runs (a test that failed midway) asks a modal question: a hang
    w.resize(1300, 850)
    w.show()
    yield w
    if w.training_page.is_training():
        w.training_page.shutdown()
    w.close()
    w.deleteLater()
    wait_for_threads()
    assert running_threads() == 0


# small real runs opened by the journeys (tests/journeys) and the user-level tests: made once per session
@pytest.fixture(scope="session")
def progressive_run(tmp_path_factory, shapes_folder):
    """A conditional progressive run (two class folders) grown 4→8, with eight checkpoints, each
    carrying the MS-SWD the trainer measured just before it."""
    from pgstudio.core.storage.runfolder import RunFolder
    from pgstudio.core.training.trainer import Trainer
    out = tmp_path_factory.mktemp("journey") / "run-20261206-101500"
    cfg = tiny_config(shapes_folder, classes="on", max_kimg=1.024, checkpoint_kimg=0.128, metric_kimg=0.128,
                      metric_n=16)
    assert Trainer.new(out, cfg).run().reason == "max_kimg"
    run = RunFolder(out)
    assert len(run.checkpoints()) >= 8 and run.read_config().class_names == ["discs", "squares"]
    return out


@pytest.fixture(scope="session")
def stylegan_run(tmp_path_factory, shapes_folder):
    """An unconditional StyleGAN2 run at 8×8 with three checkpoints."""
    from pgstudio.core.training.trainer import Trainer
    out = tmp_path_factory.mktemp("journey") / "run-20261206-101501"
    cfg = tiny_config(shapes_folder, arch="stylegan2", mapping_layers=2, loss="logistic", classes="off",
                      max_kimg=0.4, checkpoint_kimg=0.128)
    assert Trainer.new(out, cfg).run().reason == "max_kimg"
    return out


def assert_same_training_state(a, b) -> None:
    """Two trainers at the same point: G, D and G's average equal to the bit, the same images and
    steps (a run resumed from a split against one trained straight through)."""
    import torch
    for name in ("G", "D", "G_ema"):
        sa, sb = getattr(a, name).state_dict(), getattr(b, name).state_dict()
        for k in sa:
            assert torch.equal(sa[k], sb[k]), f"{name}.{k} differs"
    assert a.images_seen == b.images_seen and a.step == b.step
