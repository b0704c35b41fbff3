"""ADA's r_v signal (#15): the held-out split, the controller on synthetic score streams, and
training with it — the held-out images never train, p rises where D memorises a tiny set, a
resume continues bit-exactly, and old checkpoints (r_t only) still load."""
import numpy as np
import pytest
import torch

from pgstudio.core.training import heldout
from pgstudio.core.training.augment import ADA_INTERVAL, ADA_P_MAX, AugmentStrength


def test_heldout_count_is_five_percent_within_bounds():
    assert heldout.heldout_count(1000) == 50
    assert heldout.heldout_count(200) == 10
    assert heldout.heldout_count(100) == 8                  # at least 8 ...
    assert heldout.heldout_count(20) == 5                   # ... but never more than a quarter
    assert heldout.heldout_count(3) == 0
    assert heldout.heldout_count(9000) == 256               # at most 256


def test_the_split_is_fixed_by_seed_and_disjoint_and_keeps_every_class(tmp_path):
    from pgstudio.core.data.dataset import ImageDataset
    n = 40
    levels = {4: np.arange(n, dtype=np.uint8)[:, None, None, None].repeat(3, 1).repeat(4, 2).repeat(4, 3)}
    labels = np.array([0] * 37 + [1] * 2 + [2])             # class 2 has one image, class 1 two
    ds = ImageDataset(levels, labels, ["a", "b", "c"], report=None)
    train, held = heldout.split(ds, 10, seed=5)
    again_train, again_held = heldout.split(ds, 10, seed=5)
    assert len(train) == 30 and len(held) == 10
    assert np.array_equal(held.levels[4], again_held.levels[4])               # the same images every time
    ids_train, ids_held = set(train.levels[4][:, 0, 0, 0]), set(held.levels[4][:, 0, 0, 0])
    assert not ids_train & ids_held and len(ids_train | ids_held) == n        # disjoint, nothing lost
    assert set(train.labels.tolist()) == {0, 1, 2}                           # no class loses its last image
    assert not np.array_equal(held.levels[4], heldout.split(ds, 10, seed=6)[1].levels[4])
    assert heldout.split(ds, 0, seed=5) == (ds, None)
    with pytest.raises(ValueError):
        heldout.split(ds, 40, seed=5)


def _adjust(s: AugmentStrength, real: float, fake: float, held: float, n: int = 16) -> None:
    """One interval of D steps whose last one scores held-out reals."""
    for _ in range(ADA_INTERVAL):
        s.observe(torch.full((n,), real), torch.full((n,), fake))
        if s.wants_heldout:
            s.observe_heldout(torch.full((n,), held))
        s.step_done(None)


def test_the_rv_controller_follows_the_train_vs_heldout_gap():
    from pgstudio.core.training.augment import RV_WINDOW
    s = AugmentStrength("ada", 0.0, 0.3, ada_kimg=4.0, device=torch.device("cpu"), signal="rv")
    move = ADA_INTERVAL * 16 / 4000                       # images per adjustment / (ada_kimg · 1000)
    for _ in range(20):      # D scores training reals 2, held-out 1, fakes −1: r_v = 1/3 > 0.3, p rises
        _adjust(s, 2.0, -1.0, 1.0)
    assert s.p == pytest.approx(20 * move) and s.rv == pytest.approx(1 / 3)
    for _ in range(3 * RV_WINDOW):   # held-out scored like training reals: no memorisation, p falls
        _adjust(s, 2.0, -1.0, 2.0)
    assert s.p == 0.0 and s.rv < 0.05
    for _ in range(6 * RV_WINDOW):   # D cannot tell reals from fakes at all: nothing to call memorisation
        _adjust(s, 0.0, 0.5, -3.0)
    assert s.p == 0.0 and s.rv is None
    for _ in range(500):
        _adjust(s, 5.0, -5.0, 0.0)                        # r_v = 0.5 throughout
    assert s.p == ADA_P_MAX                               # capped where ADA starts to leak


def test_one_noisy_adjustment_does_not_move_p_the_wrong_way():
    """r_v is averaged over RV_WINDOW adjustments: a single batch whose held-out reals happened to
    score low does not read as memorisation."""
    s = AugmentStrength("ada", 0.5, 0.3, ada_kimg=4.0, device=torch.device("cpu"), signal="rv")
    for _ in range(10):
        _adjust(s, 1.0, -1.0, 1.0)                        # r_v = 0: p falls
    p = s.p
    _adjust(s, 1.0, -1.0, -3.0)                           # one batch alone would say r_v = 2
    assert s.p < p and s.rv < 0.3


def test_the_rv_signal_is_blind_to_the_offset_and_scale_of_d_scores():
    """WGAN-GP's critic has an arbitrary offset and scale: r_v reads the same through them."""
    a = AugmentStrength("ada", 0.5, 0.3, 4.0, torch.device("cpu"), signal="rv")
    b = AugmentStrength("ada", 0.5, 0.3, 4.0, torch.device("cpu"), signal="rv")
    seen = []
    for real, fake, held in ((2.0, -1.0, 1.0), (1.0, 0.0, 0.65), (1.0, 0.0, 1.0), (1.0, 0.0, 1.0), (1.0, 0.0, 1.0)):
        _adjust(a, real, fake, held)                      # r_v 0.33, 0.34, 0.27, 0.23, 0.2: up, up, down ×3
        _adjust(b, 40 + 7 * real, 40 + 7 * fake, 40 + 7 * held)
        assert a.rv == pytest.approx(b.rv, rel=1e-5)
        seen.append(a.p)
    assert a.p == b.p == pytest.approx(0.5 - 0.016) and seen[1] > seen[0] > 0.5


def test_the_rv_state_survives_a_checkpoint_and_an_old_state_loads():
    s = AugmentStrength("ada", 0.0, 0.3, 1.0, torch.device("cpu"), signal="rv")
    _adjust(s, 2.0, -1.0, 1.0)
    s.observe(torch.ones(4), torch.zeros(4))
    s.step_done(None)                                        # mid-interval
    copy = AugmentStrength("ada", 0.0, 0.3, 1.0, torch.device("cpu"), signal="rv")
    copy.load_state_dict(s.state_dict())
    for t in (s, copy):
        for _ in range(ADA_INTERVAL - 1):
            t.observe(torch.full((4,), 2.0), torch.zeros(4))
            if t.wants_heldout:
                t.observe_heldout(torch.ones(4))
            t.step_done(None)
    assert copy.p == s.p and copy.rv == s.rv
    old = {"p": 0.25, "rt": 0.5, "signs": torch.tensor(3.0), "count": 8, "steps": 2}   # before r_v
    rt = AugmentStrength("ada", 0.0, 0.6, 1.0, torch.device("cpu"))
    rt.load_state_dict(old)
    assert rt.p == 0.25 and rt.rv is None and rt._steps == 2


def rv_cfg(tiny_cfg, **overrides):
    values = dict(loss="logistic", augment="ada", ada_signal="rv", ada_kimg=0.5, ada_target=0.1, max_kimg=0.384)
    values.update(overrides)
    return tiny_cfg.replace(**values)


def test_training_by_rv_holds_images_out_and_p_rises_on_a_tiny_set(tmp_path, tiny_cfg):
    """16 images (4 held out): within 3 kimg (250 epochs) D tells its 12 from the 4 it never saw,
    r_v passes the target and p rises (about 25 s)."""
    from tests.conftest import draw_shapes
    from pgstudio.core.data.dataset import import_folder
    from pgstudio.core.storage.runfolder import RunFolder
    from pgstudio.core.training.trainer import Trainer
    folder = tmp_path / "sixteen"
    folder.mkdir()
    for i, img in enumerate(draw_shapes(16)):
        img.save(folder / f"{i:02d}.png")
    cfg = rv_cfg(tiny_cfg, data=str(folder), max_kimg=3.0, tick_kimg=0.256)
    ds = import_folder(cfg.data, 8)
    t = Trainer.new(tmp_path / "rv", cfg, dataset=ds)
    held = heldout.heldout_count(len(ds))
    assert t.cfg.ada_heldout == held > 0                                 # settled when the run starts
    assert RunFolder(tmp_path / "rv").read_config().ada_heldout == held  # and recorded
    assert len(t.training_set) == len(ds) - held and len(t.heldout_set) == held
    trained = {bytes(img) for img in t.stepper.sampler.dataset.levels[8]}
    assert not trained & {bytes(img) for img in t.heldout_set.levels[8]}   # the sampler never draws them
    assert t.run().reason == "max_kimg"
    ticks = [r for r in RunFolder(tmp_path / "rv").read_metrics()[0] if r["kind"] == "tick"]
    rv = [r["augment_rv"] for r in ticks if r.get("augment_rv") is not None]
    assert rv and all(r["augment_target"] == 0.1 for r in ticks)
    assert max(rv) > 0.1 and max(r["augment_p"] for r in ticks) > 0
    log = (tmp_path / "rv" / "log.txt").read_text()
    assert f"{held} of the {len(ds)} images are held out" in log


def test_a_run_by_rv_resumes_exactly(tmp_path, tiny_cfg):
    """Starting at p = 0.3, so the held-out batches are augmented from the first step."""
    from pgstudio.core.data.dataset import import_folder
    from pgstudio.core.training.trainer import Trainer
    cfg = rv_cfg(tiny_cfg, augment_p=0.3)
    ds = import_folder(cfg.data, 8)
    straight = Trainer.new(tmp_path / "straight", cfg, dataset=ds)
    straight.run()
    first = Trainer.new(tmp_path / "split", cfg.replace(max_kimg=0.192), dataset=ds)
    first.run()
    resumed = Trainer.resume(tmp_path / "split", max_kimg=0.384, dataset=ds)
    assert resumed.cfg.ada_heldout == straight.cfg.ada_heldout
    assert np.array_equal(resumed.heldout_set.levels[8], straight.heldout_set.levels[8])
    resumed.run()
    assert resumed.recipe.strength.p == straight.recipe.strength.p
    for k, v in straight.G.state_dict().items():
        assert torch.equal(v, resumed.G.state_dict()[k]), k


def test_auto_chooses_rv_for_a_small_folder_with_wgan_gp_too(tmp_path, tiny_cfg):
    from pgstudio.core.training.trainer import Trainer
    wide = dict(fmap_base=256, fmap_max=128)     # auto leaves networks as narrow as the laptop's off
    t = Trainer.new(tmp_path / "auto", tiny_cfg.replace(augment="auto", ada_signal="rv", loss="wgan-gp",
                                                       max_kimg=0.064, **wide))
    assert t.cfg.augment == "ada" and t.cfg.ada_heldout > 0 and "held out" in t.cfg.augment_reason
    assert t.run().reason == "max_kimg"
    t_rt = Trainer.new(tmp_path / "auto-rt", tiny_cfg.replace(augment="auto", loss="wgan-gp", max_kimg=0.064,
                                                              **wide))
    assert t_rt.cfg.augment == "off" and t_rt.cfg.ada_heldout == 0 and t_rt.heldout_set is None
    t_rt.close()


def test_the_cli_takes_the_signal_with_its_target_and_resume_keeps_them(tmp_path, shapes_folder):
    import json
    from pgstudio.cli import main
    from pgstudio.core.config import ADA_TARGETS
    runs = {}
    for signal in ("rv", "rt"):
        out = tmp_path / signal
        assert main(["train", "--data", str(shapes_folder), "--out", str(out), "--resolution", "8",
                     "--phase-kimg", "0.032", "--max-kimg", "0.064", "--augment", "ada", "--ada-signal", signal,
                     "--device", "cpu", "--quiet"]) == 0
        runs[signal] = json.loads((out / "config.json").read_text())
        assert runs[signal]["ada_signal"] == signal and runs[signal]["ada_target"] == ADA_TARGETS[signal]
    assert runs["rv"]["ada_heldout"] == heldout.heldout_count(96) and runs["rt"]["ada_heldout"] == 0
    assert main(["resume", str(tmp_path / "rv"), "--max-kimg", "0.128", "--quiet"]) == 0
    resumed = json.loads((tmp_path / "rv" / "config.json").read_text())
    assert {k: resumed[k] for k in ("ada_signal", "ada_target", "ada_heldout")} == \
        {k: runs["rv"][k] for k in ("ada_signal", "ada_target", "ada_heldout")}
    ticks = [json.loads(line) for line in (tmp_path / "rv" / "metrics.jsonl").read_text().splitlines()]
    assert any(r.get("kind") == "tick" and r["kimg"] > 0.064 and "augment_rv" in r for r in ticks)
    # a target given with the signal is kept
    assert main(["train", "--data", str(shapes_folder), "--out", str(tmp_path / "t"), "--resolution", "8",
                 "--phase-kimg", "0.032", "--max-kimg", "0.032", "--ada-signal", "rv", "--ada-target", "0.45",
                 "--device", "cpu", "--quiet"]) == 0
    assert json.loads((tmp_path / "t" / "config.json").read_text())["ada_target"] == 0.45


def test_resuming_on_a_folder_that_changed_says_the_split_moved(tmp_path, shapes_folder):
    import shutil
    from pgstudio.core.training.trainer import Trainer
    from tests.conftest import tiny_config
    folder = tmp_path / "folder"
    shutil.copytree(shapes_folder, folder)
    cfg = tiny_config(folder, loss="logistic", augment="ada", ada_signal="rv", max_kimg=0.064)
    t = Trainer.new(tmp_path / "run", cfg)
    assert t.cfg.ada_heldout_of == 96
    t.run()
    Trainer.resume(tmp_path / "run", max_kimg=0.128).run()            # the same folder: nothing to say
    assert "images now" not in (tmp_path / "run" / "log.txt").read_text()
    shutil.copy(next(folder.rglob("*.png")), folder / "squares" / "extra.png")
    Trainer.resume(tmp_path / "run", max_kimg=0.192).run()
    assert "the folder has 97 images now, 96 when the run started" in (tmp_path / "run" / "log.txt").read_text()
