"""Transfer learning (#15 item 6) and augment auto (item 4): a new run starts from a trained model's
weights at the level it reached, refuses a mismatched architecture with what differs, keeps
FreezeD's blocks frozen, and records where it started."""
import json

import pytest
import torch

from pgstudio.cli import main
from pgstudio.core.presets import preset_config
from pgstudio.core.training.augment_choice import ADA_BELOW_IMAGES, NARROW_D_FMAPS, choose_augment
from pgstudio.core.training.schedule import phases, schedule_at, total_kimg
from pgstudio.core.training.trainer import Trainer
from pgstudio.core.training.transfer import configured, read_origin
from tests.conftest import tiny_config


@pytest.fixture(scope="module")
def origin_run(tmp_path_factory, shapes_folder):
    """A finished progressive run at 8x8 (the origin of the transfers below)."""
    run = tmp_path_factory.mktemp("origin") / "run"
    cfg = tiny_config(shapes_folder, loss="logistic")
    assert Trainer.new(run, cfg).run().reason == "completed"
    return run


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_run_from_a_checkpoint_starts_with_its_weights_at_its_level(origin_run, shapes_folder, tmp_path):
    origin = read_origin(origin_run)                         # a run folder: its newest checkpoint
    assert origin.kind == "checkpoint" and origin.position.resolution == 8
    cfg = configured(tiny_config(shapes_folder, loss="logistic", seed=9), origin)
    # the origin finished its schedule at 8x8: this run begins at the start of 8x8's stabilize phase
    assert cfg.schedule_offset_kimg == pytest.approx(0.512)
    assert schedule_at(cfg, 0).resolution == 8 and schedule_at(cfg, 0).alpha == 1.0
    assert total_kimg(cfg) == pytest.approx(0.256)
    trainer = Trainer.new(tmp_path / "new", cfg)
    assert _same(trainer.G.state_dict(), origin.generator)
    assert _same(trainer.D.state_dict(), origin.discriminator)
    assert _same(trainer.G_ema.state_dict(), origin.generator_ema)
    assert trainer.run().reason == "completed"
    saved = json.loads((tmp_path / "new" / "config.json").read_text())
    assert saved["start_from"]["path"] == str(origin.path) and saved["start_from"]["kind"] == "checkpoint"
    ticks = [json.loads(l) for l in (tmp_path / "new" / "metrics.jsonl").read_text().splitlines()]
    ticks = [t for t in ticks if t.get("kind") == "tick"]
    # the curves are on this run's own images, and the run trained at 8x8 from its first step
    assert ticks[0]["kimg"] < 0.1 and {t["resolution"] for t in ticks} == {8}
    log = (tmp_path / "new" / "log.txt").read_text()
    assert "started from run/ckpt-" in log and "G, D and EMA" in log


def test_a_fade_entered_half_way_keeps_its_alpha(shapes_folder):
    cfg = tiny_config(shapes_folder, resolution=16, batch={4: 16, 8: 16, 16: 16})
    # a model saved half-way into the 8→16 fade: the new run enters that fade at α = 0.5
    cfg = cfg.replace(schedule_offset_kimg=0.256 * 3 + 0.128)
    first = schedule_at(cfg, 0)
    assert (first.resolution, first.phase, first.alpha) == (16, "fade", pytest.approx(0.5))
    assert phases(cfg)[0].start_kimg == pytest.approx(-0.128)
    assert schedule_at(cfg, 128).phase == "stabilize"
    assert total_kimg(cfg) == pytest.approx(0.128 + 0.256)


def test_a_mismatched_architecture_is_refused_saying_what_differs(origin_run, shapes_folder, tmp_path):
    origin = read_origin(origin_run)
    cfg = configured(tiny_config(shapes_folder, fmap_max=32, resolution=16, batch={16: 16}), origin)
    with pytest.raises(ValueError) as err:
        Trainer.new(tmp_path / "bad", cfg)
    text = str(err.value)
    assert "fmap max: the trained model has 16, this run 32" in text
    assert "resolution: the trained model has 8, this run 16" in text
    assert not (tmp_path / "bad").exists()           # nothing written for a refused start
    # the CLI takes the architecture from the model unless told otherwise, and says the same
    assert main(["train", "--data", str(shapes_folder), "--out", str(tmp_path / "cli"), "--init", str(origin_run),
                 "--resolution", "16", "--quiet"]) == 2
    assert not (tmp_path / "cli").exists()


def test_freeze_d_keeps_the_highest_resolution_blocks_and_resume_keeps_it(origin_run, shapes_folder, tmp_path):
    origin = read_origin(origin_run)
    cfg = configured(tiny_config(shapes_folder, loss="logistic", max_kimg=0.192), origin, freeze_d=1)
    trainer = Trainer.new(tmp_path / "frozen", cfg)
    trainer.run()
    frozen = ("blocks.3.", "from_rgb.3.")
    after = {k: v for k, v in trainer.D.state_dict().items()}
    for name, value in origin.discriminator.items():
        if name.startswith(frozen):
            assert torch.equal(after[name], value), name
    moved = [n for n, v in origin.discriminator.items() if not n.startswith(frozen) and not torch.equal(after[n], v)]
    assert any(n.startswith("final.") for n in moved)           # the rest of D trained
    resumed = Trainer.resume(tmp_path / "frozen", max_kimg=0.384)
    assert resumed.cfg.freeze_d == 1
    resumed.run()
    for name, value in origin.discriminator.items():
        if name.startswith(frozen):
            assert torch.equal(resumed.D.state_dict()[name], value), name


def test_an_export_starts_g_and_ema_while_d_starts_fresh(origin_run, shapes_folder, tmp_path):
    assert main(["export", str(origin_run), "--out", str(tmp_path / "exp")]) == 0
    origin = read_origin(tmp_path / "exp")
    assert origin.kind == "export" and not origin.has_discriminator
    cfg = configured(tiny_config(shapes_folder, loss="logistic"), origin)
    trainer = Trainer.new(tmp_path / "from-export", cfg)
    assert _same(trainer.G.state_dict(), origin.generator_ema)
    trainer.close()
    with pytest.raises(ValueError, match="no discriminator"):
        Trainer.new(tmp_path / "refused", configured(tiny_config(shapes_folder), origin, freeze_d=1))
    assert not (tmp_path / "refused").exists()
    assert main(["train", "--data", str(shapes_folder), "--out", str(tmp_path / "cli"), "--init",
                 str(tmp_path / "exp"), "--freeze-d", "1", "--quiet"]) == 2


def test_cli_init_continues_a_matching_model(origin_run, shapes_folder, tmp_path, capsys):
    out = tmp_path / "cli-run"
    assert main(["train", "--data", str(shapes_folder), "--out", str(out), "--init", str(origin_run),
                 "--freeze-d", "1", "--max-kimg", "0.128"]) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["resolution"] == 8 and cfg["fmap_max"] == 16 and cfg["freeze_d"] == 1
    assert cfg["start_from"]["resolution"] == 8
    assert "started from" in capsys.readouterr().err


def test_augment_auto_chooses_by_folder_size_and_width_and_says_why(shapes_folder, tmp_path):
    assert choose_augment(ADA_BELOW_IMAGES - 1, "logistic")[0] == "ada"
    assert choose_augment(ADA_BELOW_IMAGES, "logistic")[0] == "off"
    assert choose_augment(100, "wgan-gp")[0] == "off"            # ADA's r_t needs logistic or hinge
    assert choose_augment(100, "wgan-gp", "rv")[0] == "ada"      # r_v reads differences: any loss
    assert choose_augment(3, "logistic", "rv")[0] == "off"       # too few to hold any out
    # networks as narrow as the laptop preset's: measured to lose more to augmenting than to D's memorising
    assert choose_augment(100, "logistic", "rv", fmap_max=NARROW_D_FMAPS)[0] == "off"
    assert choose_augment(100, "logistic", "rv", fmap_max=2 * NARROW_D_FMAPS)[0] == "ada"
    narrow = Trainer.new(tmp_path / "narrow", tiny_config(shapes_folder, loss="logistic", augment="auto"))
    narrow.close()
    saved = json.loads((tmp_path / "narrow" / "config.json").read_text())
    assert saved["augment"] == "off" and "networks this narrow" in saved["augment_reason"]
    wide = tiny_config(shapes_folder, loss="logistic", augment="auto", fmap_base=256, fmap_max=2 * NARROW_D_FMAPS)
    trainer = Trainer.new(tmp_path / "auto", wide)
    trainer.close()
    saved = json.loads((tmp_path / "auto" / "config.json").read_text())
    assert saved["augment"] == "ada" and "96 images is below" in saved["augment_reason"]
    assert "augment auto → adaptive" in (tmp_path / "auto" / "log.txt").read_text()
    assert preset_config("laptop").augment == "auto"


def test_a_model_that_upsampled_by_repeating_pixels_goes_on_doing_so(shapes_folder, tmp_path):
    """An origin written before FIR upsampling (or with --resample nearest): a run asking for FIR is
    refused naming the difference, and --init takes the model's own upsampling."""
    run = tmp_path / "nearest"
    assert Trainer.new(run, tiny_config(shapes_folder, loss="logistic", resample="nearest",
                                        max_kimg=0.128)).run().reason == "max_kimg"
    origin = read_origin(run)
    cfg = configured(tiny_config(shapes_folder, loss="logistic"), origin)
    assert cfg.resample == "fir"
    with pytest.raises(ValueError, match="G upsampling: the trained model has nearest, this run fir"):
        Trainer.new(tmp_path / "bad", cfg)
    assert main(["train", "--data", str(shapes_folder), "--out", str(tmp_path / "cli"), "--init", str(run),
                 "--max-kimg", "0.064", "--quiet"]) == 0
    assert json.loads((tmp_path / "cli" / "config.json").read_text())["resample"] == "nearest"


def test_a_stylegan2_model_keeps_its_discriminator_block(shapes_folder, tmp_path):
    """D's block form decides whether the skip has a bias: a transfer from a model trained with the
    old form keeps it, so its trained D loads and computes what it learned."""
    run = tmp_path / "old"
    old = tiny_config(shapes_folder, arch="stylegan2", loss="logistic", r1_gamma=0.1, d_block="fir-then-conv",
                      mapping_layers=2, max_kimg=0.064)
    assert Trainer.new(run, old).run().reason == "max_kimg"
    cfg = configured(tiny_config(shapes_folder, arch="stylegan2", loss="logistic", mapping_layers=2), read_origin(run))
    assert cfg.d_block == "fir-then-conv"
    trainer = Trainer.new(tmp_path / "new", cfg)
    assert trainer.D.blocks["3"].skip.bias is not None
    trainer.close()
