"""Class-conditional training: labels from first-level sub-folders, label routing in both families,
class names through exports and resumes, reproducible label draws (resume, two processes, balance),
transfer from an unconditional model, and the CLI's class options."""
import json

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from PIL import Image, ImageDraw

from pgstudio.cli import main
from pgstudio.core.data.dataset import DatasetError, import_folder
from pgstudio.core.training.class_choice import choose_classes
from pgstudio.core.training.trainer import Trainer
from tests.conftest import tiny_config
from tests.test_distributed import _rank_main


def colour_classes(root, n: int = 16, size: int = 16, seed: int = 0):
    """Two classes the test can tell apart by colour: red squares and blue circles on grey."""
    rng = np.random.default_rng(seed)
    for cls, colour in (("red_squares", (220, 30, 30)), ("blue_circles", (30, 30, 220))):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            im = Image.new("RGB", (size, size), (128, 128, 128))
            a, b = (int(v) for v in rng.integers(1, 5, 2))
            (ImageDraw.Draw(im).rectangle if cls.startswith("red") else ImageDraw.Draw(im).ellipse)(
                (a, b, a + 10, b + 10), fill=colour)
            im.save(root / cls / f"{i}.png")
    return root


def red_minus_blue(G, level, label, n=64):
    from pgstudio.core.analysis.export import render
    z = torch.randn(n, G.latent_size, generator=torch.Generator().manual_seed(5))
    img = render(G, z, level, 1.0, labels=torch.full((n,), label)).astype(float)
    return float((img[..., 0] - img[..., 2]).mean())


def test_first_level_sub_folders_are_the_classes(tmp_path):
    root = tmp_path / "data"
    for rel in ("b/1.png", "b/deep/2.png", "a/3.png", "a/4.png", "loose.png"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 8), (10, 20, 30)).save(root / rel)
    ds = import_folder(root, 8, cache_dir=tmp_path / "cache")
    assert ds.class_names == ["a", "b"] and ds.class_counts() == [2, 2] and ds.unlabelled == 1
    assert sorted(ds.labels.tolist()) == [-1, 0, 0, 1, 1]
    assert choose_classes(ds, "auto")[0] is None and "top level" in choose_classes(ds, "auto")[1]
    with pytest.raises(ValueError, match="top level"):
        choose_classes(ds, "on")
    (root / "loose.png").unlink()
    ds = import_folder(root, 8, cache_dir=tmp_path / "cache")
    assert choose_classes(ds, "auto")[0] == ["a", "b"] and choose_classes(ds, "off")[0] is None
    assert import_folder(root, 8, cache_dir=tmp_path / "cache").report.from_cache


def test_one_sub_folder_trains_unconditionally_and_on_refuses(tmp_path):
    root = tmp_path / "one"
    (root / "only").mkdir(parents=True)
    for i in range(3):
        Image.new("RGB", (8, 8)).save(root / "only" / f"{i}.png")
    ds = import_folder(root, 8, cache_dir=tmp_path / "cache")
    assert choose_classes(ds, "auto")[0] is None
    with pytest.raises(ValueError, match="two or more"):
        choose_classes(ds, "on")


@pytest.mark.parametrize("family,kimg", [("progressive", 6.0), ("stylegan2", 3.0)])
def test_labels_route_to_the_chosen_class(tmp_path, family, kimg):
    """After a short CPU run on red squares and blue circles, class red draws red-dominant images
    and class blue blue-dominant ones (the mean R − B over 64 samples)."""
    from pgstudio.core.presets import preset_config
    data = colour_classes(tmp_path / "colours")
    cfg = preset_config("laptop", arch=family, data=str(data), resolution=8, latent_size=16, fmap_base=64,
                        fmap_max=16, stabilize_kimg=kimg / 3, fade_kimg=kimg / 3, batch={4: 16, 8: 16},
                        batch_default=16, tick_kimg=0.5, sample_kimg=100, checkpoint_kimg=100, device="cpu",
                        precision="fp32", seed=1, augment="off", max_kimg=kimg, grid_size=16,
                        **({"mapping_layers": 2} if family == "stylegan2" else {}))
    t = Trainer.new(tmp_path / "run", cfg)
    assert t.cfg.class_names == ["blue_circles", "red_squares"] and t.cfg.class_counts == [16, 16]
    assert "classes auto → on" in t.cfg.classes_reason
    assert t.run().reason == "max_kimg"
    blue, red = red_minus_blue(t.G_ema, 3, 0), red_minus_blue(t.G_ema, 3, 1)
    print(f"{family}: R-B blue class {blue:.1f}, red class {red:.1f}")
    assert blue < -20 and red > 10
    grid = np.asarray(Image.open(sorted((tmp_path / "run" / "samples").glob("*.png"))[-1]))
    assert grid.shape[0] == 2 * (8 + 1) + 1          # one row per class of the same latents


def test_class_names_survive_export_and_resume_and_changed_classes_are_refused(tmp_path, shapes_folder):
    from pgstudio.core.analysis.export import export_generator
    from pgstudio.core.models import load_generator
    cfg = tiny_config(shapes_folder, loss="logistic", classes="auto", max_kimg=0.128)
    Trainer.new(tmp_path / "run", cfg).run()
    loaded = load_generator(tmp_path / "run")
    assert loaded.generator.class_names == ("discs", "squares")
    export_generator(loaded, tmp_path / "export")
    assert json.loads((tmp_path / "export" / "generator.json").read_text())["class_names"] == ["discs", "squares"]
    assert load_generator(tmp_path / "export").generator.class_names == ("discs", "squares")
    resumed = Trainer.resume(tmp_path / "run", max_kimg=0.192)
    assert resumed.cfg.class_names == ["discs", "squares"] and resumed.G.classes == 2
    resumed.close()
    # a new class folder in the data set: the run's classes are matched by name, and refused
    copy = tmp_path / "changed"
    import shutil
    shutil.copytree(shapes_folder, copy)
    (copy / "stars").mkdir()
    Image.new("RGB", (16, 16)).save(copy / "stars" / "0.png")
    cfg2 = tiny_config(copy, loss="logistic", classes="auto", max_kimg=0.064)
    Trainer.new(tmp_path / "run2", cfg2.replace(data=str(shapes_folder))).run()
    config = json.loads((tmp_path / "run2" / "config.json").read_text())
    config["data"] = str(copy)
    (tmp_path / "run2" / "config.json").write_text(json.dumps(config))
    with pytest.raises(DatasetError, match="new class folder stars"):
        Trainer.resume(tmp_path / "run2", max_kimg=0.128)


def test_a_conditional_run_resumes_exactly(tmp_path, shapes_folder):
    """Labels come from the trainer's generator after every other draw: a resumed run reaches the
    same weights as one run straight through (balanced draws and an OOM split on the way)."""
    cfg = tiny_config(shapes_folder, loss="logistic", classes="on", balance_classes=True, max_kimg=0.384)
    ds = import_folder(cfg.data, 8)
    straight = Trainer.new(tmp_path / "straight", cfg, dataset=ds)
    straight.accum[8] = 2                               # micro-batches: labels are chunked like z
    assert straight.run().reason == "max_kimg"
    first = Trainer.new(tmp_path / "split", cfg.replace(max_kimg=0.192), dataset=ds)
    first.accum[8] = 2
    first.run()
    resumed = Trainer.resume(tmp_path / "split", max_kimg=0.384, dataset=ds)
    resumed.run()
    for k, v in straight.G.state_dict().items():
        assert torch.equal(v, resumed.G.state_dict()[k]), k
    for k, v in straight.D.state_dict().items():
        assert torch.equal(v, resumed.D.state_dict()[k]), k


def test_balanced_draws_even_out_an_imbalanced_set():
    from pgstudio.core.training.labels import ClassDraws
    labels = np.array([0] * 90 + [1] * 9 + [2] * 1)
    rng = torch.Generator().manual_seed(0)
    for balance, expected in ((True, [1 / 3] * 3), (False, [0.9, 0.09, 0.01])):
        draws = ClassDraws(labels, 3, balance, torch.device("cpu"))
        reals = torch.from_numpy(labels)[draws.real_indices(30000, torch.device("cpu"), rng)]
        fakes = draws.fake_labels(30000, torch.device("cpu"), rng)
        for drawn in (reals, fakes):
            share = torch.bincount(drawn, minlength=3).float() / 30000
            assert torch.allclose(share, torch.tensor(expected), atol=0.015), (balance, share)


def _two_ranks(tmp_path, name: str, data, extra: dict) -> dict:
    """A conditional run on 2 gloo processes (tests/test_distributed.py's rank); rank 0's G after
    checking that both ranks hold the same weights."""
    run = tmp_path / name
    mp.spawn(_rank_main, args=(2, str(tmp_path / f"init-{name}"), str(run), str(data), "logistic",
                               {"classes": "on", **extra}), nprocs=2, join=True)
    r0, r1 = (torch.load(f"{run}-rank{r}.pt", weights_only=True) for r in (0, 1))
    assert all(torch.equal(r0[k], r1[k]) for k in r0)
    return r0


def test_two_processes_train_what_one_does_with_labels(tmp_path, shapes_folder):
    r0 = _two_ranks(tmp_path, "ddp", shapes_folder, {})
    torch.set_num_threads(1)
    single = Trainer.new(tmp_path / "single", tiny_config(shapes_folder, loss="logistic", classes="on",
                                                          max_kimg=0.25, r1_interval=2))
    single.run()
    worst = max((single.G.state_dict()[k] - r0[k]).abs().max().item() for k in r0)
    assert worst < 1e-5, worst
    assert "first.label.weight" in r0


def test_stylegan2_ranks_agree_with_labels(tmp_path, shapes_folder):
    r0 = _two_ranks(tmp_path, "ddp-sg2", shapes_folder, {"arch": "stylegan2", "mapping_layers": 2, "pl_interval": 2})
    assert r0["mapping.w_avg_class"].abs().sum() > 0    # the per-class mean w is tracked


def test_an_unconditional_model_starts_a_conditional_run(tmp_path, shapes_folder):
    from pgstudio.core.training.transfer import configured, read_origin
    Trainer.new(tmp_path / "origin", tiny_config(shapes_folder, loss="logistic", max_kimg=0.128)).run()
    origin = read_origin(tmp_path / "origin")
    cfg = configured(tiny_config(shapes_folder, loss="logistic", classes="on", max_kimg=0.256), origin)
    t = Trainer.new(tmp_path / "transfer", cfg, origin=origin)
    assert t.cfg.start_from["label_layers"] == "fresh"
    for k, v in origin.generator.items():            # every weight of the origin loaded, unchanged
        assert torch.equal(t.G.state_dict()[k], v), k
    assert "first.label.weight" in t.G.state_dict() and "final.projection.embedding.embed.weight" in t.D.state_dict()
    log = (tmp_path / "transfer" / "log.txt").read_text()
    assert "label layers fresh" in log
    assert t.run().reason == "max_kimg"
    # the other way round is a difference the error names
    back = tiny_config(shapes_folder, loss="logistic", classes="off", max_kimg=0.4)
    with pytest.raises(ValueError, match="classes: the trained model has"):
        Trainer.new(tmp_path / "back", configured(back, read_origin(tmp_path / "transfer")))


def test_cli_trains_conditionally_by_default_and_generates_a_class(tmp_path, capsys):
    data = colour_classes(tmp_path / "colours", n=8, size=8)
    run = tmp_path / "run"
    assert main(["train", "--data", str(data), "--out", str(run), "--resolution", "8", "--phase-kimg", "0.064",
                 "--max-kimg", "0.128", "--device", "cpu", "--quiet"]) == 0
    assert json.loads((run / "config.json").read_text())["class_names"] == ["blue_circles", "red_squares"]
    assert main(["generate", str(run), "--out", str(tmp_path / "red.png"), "--n", "3", "--class", "red_squares"]) == 0
    from pgstudio.core.analysis.export import read_provenance
    assert read_provenance(tmp_path / "red-000.png")["class"] == "red_squares"
    assert main(["generate", str(run), "--out", str(tmp_path / "all.png"), "--n", "4"]) == 0
    assert "cycle through its 2 classes" in capsys.readouterr().err
    assert main(["generate", str(run), "--out", str(tmp_path / "grid.png"), "--per-class", "3", "--grid"]) == 0
    assert np.asarray(Image.open(tmp_path / "grid.png")).shape[:2] == (2 * 9 + 1, 3 * 9 + 1)
    assert main(["generate", str(run), "--out", str(tmp_path / "x.png"), "--class", "green"]) == 2
    assert "0 blue_circles, 1 red_squares" in capsys.readouterr().err
    assert main(["interpolate", str(run), "--seeds", "4", "--classes", "blue_circles,red_squares",
                 "--frames", "4", "--out", str(tmp_path / "blend.gif")]) == 0
    with Image.open(tmp_path / "blend.gif") as gif:
        assert gif.n_frames == 5                       # 4 frames of the blend, then the last class itself
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "off"), "--resolution", "8",
                 "--phase-kimg", "0.064", "--max-kimg", "0.064", "--device", "cpu", "--quiet",
                 "--classes", "off"]) == 0
    assert json.loads((tmp_path / "off" / "config.json").read_text())["class_names"] is None
    assert main(["generate", str(tmp_path / "off"), "--out", str(tmp_path / "u.png"), "--class", "0"]) == 2


@pytest.mark.parametrize("family", ["progressive", "stylegan2"])
def test_the_studio_shows_classes_and_the_explorer_switches_them(qtbot, window, tmp_path, monkeypatch, family):
    """The Dataset page charts the classes, the run form ticks 'use classes' for them, the Training
    page names the grid's rows, and in the explorer choosing another class (and blending toward it)
    changes the image at a fixed seed; a saved PNG names the class."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog
    from pgstudio.core.analysis.export import read_provenance
    from pgstudio.core.storage.runfolder import RunFolder
    from tests.test_gui import click
    data = colour_classes(tmp_path / "colours", n=8, size=8)
    panel = window.dataset_panel
    with qtbot.waitSignal(panel.dataset_ready, timeout=20000):
        panel.set_folder(str(data))
    assert panel.class_counts == {"blue_circles": 8, "red_squares": 8}
    assert panel.tabs.tabText(3) == "Classes (2)"
    form = window.setup_form
    qtbot.waitUntil(lambda: form.use_classes.isEnabled(), timeout=5000)
    assert form.use_classes.isChecked() and form.build()[0].classes == "on"
    assert "2 class folders" in form.classes_note.text()
    qtbot.mouseClick(form.use_classes, Qt.LeftButton)
    assert form.build()[0].classes == "off" and not form.balance_classes.isEnabled()
    qtbot.mouseClick(form.use_classes, Qt.LeftButton)

    extra = {"arch": "stylegan2", "mapping_layers": 2} if family == "stylegan2" else {}
    run = tmp_path / "run"
    Trainer.new(run, tiny_config(data, loss="logistic", classes="on", max_kimg=0.192, **extra)).run()
    window.open_run(str(run))
    qtbot.waitUntil(lambda: window.training_page.samples.view.row_labels == ["blue_circles", "red_squares"],
                    timeout=5000)
    ex = window.explorer_page
    window.tabs.setCurrentWidget(ex)
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        ex.open_path(str(RunFolder(run).checkpoints()[-1]))
    assert ex.class_box.isVisible() and ex.class_choice.count() == 2
    before = ex.view.array().copy()
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        ex.class_choice.setCurrentIndex(1)
    assert not np.array_equal(before, ex.view.array())
    assert "red_squares" in ex.caption.text()
    other = ex.view.array().copy()
    assert ex.blend_to.currentText() == "red_squares"
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        ex.blend_to.setCurrentIndex(0)
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        ex.blend.setValue(100)               # fully toward blue_circles: the first class's image again
    assert np.array_equal(ex.view.array(), before)
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        ex.blend.setValue(0)
    assert np.array_equal(ex.view.array(), other)
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        click(qtbot, ex.all_classes_button)
    side = other.shape[0]
    assert ex.view.array().shape == (side + 4, 2 * side + 6, 3)      # two classes side by side, padded
    with qtbot.waitSignal(ex.image_rendered, timeout=10000):
        ex.seed.setValue(ex.seed.value() + 1)
    path = tmp_path / "saved.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    click(qtbot, ex.save_image_button)
    assert read_provenance(path)["class"] == "red_squares"


def test_wgan_gp_and_augmentation_train_conditionally(tmp_path, shapes_folder):
    """WGAN-GP's interpolates take the reals' labels (D's fakes share them) and the augmentation
    composes with labels: a short run stays finite and its grid has a row per class."""
    cfg = tiny_config(shapes_folder, loss="wgan-gp", classes="on", augment="fixed", augment_p=0.3, max_kimg=0.128)
    t = Trainer.new(tmp_path / "run", cfg)
    assert t.run().reason == "max_kimg"
    assert all(torch.isfinite(v).all() for v in t.G.state_dict().values())
    grid = t.render_fixed(__import__("pgstudio.core.training.schedule", fromlist=["schedule_at"]).schedule_at(t.cfg, 0))
    assert grid.shape[0] == 2 * (4 + 1) + 1 and grid.shape[1] == 3 * (4 + 1) + 1
