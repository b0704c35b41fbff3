"""The structure's own promises: one family object, one architecture record, typed records, one
implementation per operation, and the documented Python API at its documented paths."""
import json
import math
import re
import shutil
from pathlib import Path

import pytest
import torch

from pgstudio.core.families import Architecture, family, family_of, read_architecture
from pgstudio.core.storage.checkpoint import load_checkpoint
from pgstudio.core.storage.records import SchedulePosition, TickRecord
from pgstudio.core.storage.runfolder import RunFolder, RunFolderError
from tests.numerics_fixture import FIXTURES
from pgstudio.core.validation import config_messages, config_problems

OLD_CHECKPOINTS = {case: next((FIXTURES / case / "run" / "checkpoints").glob("ckpt-*.pt"))
                   for case in ("progressive-logistic", "stylegan2")}


@pytest.mark.parametrize("case", sorted(OLD_CHECKPOINTS))
def test_the_architecture_record_serialises_to_the_old_dict(case):
    """Checkpoints load with weights_only=True and exports are JSON: the record must write what
    the code before it wrote, key for key and in order."""
    old = load_checkpoint(OLD_CHECKPOINTS[case])["architecture"]
    record = read_architecture(old)
    assert list(record.to_dict().items()) == list(old.items())
    assert record.family == family_of(old).name == case.split("-")[0]


def test_an_architecture_from_before_the_family_key_is_progressive():
    old = {"resolution": 16, "image_channels": 3, "latent_size": 8, "fmap_base": 32, "fmap_max": 8}
    assert read_architecture(old).family == "progressive"
    sg2 = read_architecture({**old, "arch": "stylegan2"})        # its keys missing: its defaults
    assert (sg2.mapping_layers, sg2.demodulate) == (8, True)
    with pytest.raises(ValueError, match="power of two"):
        Architecture("progressive", 12, 3, 8, 32, 8)
    with pytest.raises(ValueError, match="unknown architecture"):
        read_architecture({**old, "arch": "vqgan"})


def test_each_family_builds_networks_that_load_its_old_weights():
    for case, path in OLD_CHECKPOINTS.items():
        state = load_checkpoint(path)
        fam = family_of(state["architecture"])
        G = fam.build_generator(read_architecture(state["architecture"]))
        G.load_state_dict(state["generator_ema"])       # strict: every key and shape matches
        assert G.architecture() == state["architecture"]


def test_the_registry_drives_the_settings_the_cli_and_the_presets():
    from pgstudio.core.presets import preset_values
    assert preset_values("laptop", "stylegan2")["loss"] == "logistic"
    assert preset_values("paper", "stylegan2")["batch"][256] == 32 and preset_values("paper")["batch"][256] == 8
    assert not family("stylegan2").grows and family("progressive").grows
    assert family(None) is family("progressive")
    with pytest.raises(ValueError, match="unknown architecture"):
        family("vqgan")


def test_a_family_validates_its_own_settings(tiny_cfg):
    problems = config_messages(tiny_cfg.replace(arch="stylegan2", loss="wgan-gp", style_mixing=2.0))
    assert any("WGAN-GP" in p for p in problems) and any("style mixing" in p for p in problems)
    assert not config_messages(tiny_cfg.replace(style_mixing=2.0))     # progressive reads no such setting


@pytest.mark.parametrize("arch", ["progressive", "stylegan", "stylegan2", "classic", "biggan"])
def test_only_the_progressive_family_compiles(tiny_cfg, arch):
    """--compile: the progressive family's static graphs only; every other family is refused on the
    compile field, with its name (the survey's families need a loss they train with)."""
    cfg = tiny_cfg.replace(arch=arch, loss="hinge" if arch in ("classic", "biggan") else "logistic", compile=True)
    refused = [p for p in config_problems(cfg) if p.field == "compile"]
    if arch == "progressive":
        assert not refused
    else:
        assert len(refused) == 1 and family(arch).title in refused[0].message


def test_the_tick_record_reads_old_lines_and_writes_them_unchanged():
    records, _ = RunFolder(FIXTURES / "stylegan2" / "run").read_metrics()
    line = next(r for r in records if r["kind"] == "tick")
    tick = TickRecord.from_dict(line)
    assert tick.to_dict() == line and list(tick.to_dict()) == list(line)
    assert tick.family_stats.keys() == {"pl_penalty", "pl_mean"} and tick.number("pl_mean") == line["pl_mean"]
    oldest = TickRecord.from_dict({"kimg": 1.0, "loss_d": 0.5, "loss_g": 0.1, "alpha": 1.0, "resolution": 4,
                                   "phase": "stabilize"})          # a line of the first pgstudio
    assert oldest.wall_s is None and oldest.stalled == () and math.isnan(oldest.number("pl_mean"))


def test_a_checkpoints_schedule_position_is_read_in_one_place():
    from pgstudio.core.models import load_generator
    state = load_checkpoint(OLD_CHECKPOINTS["progressive-logistic"])
    where = SchedulePosition.of_checkpoint(state)
    assert (where.kimg, where.resolution, where.family) == (0.064, 4, "progressive")
    assert load_generator(OLD_CHECKPOINTS["progressive-logistic"]).position == where


def test_durations_read_the_same_everywhere():
    from pgstudio.core.formatting import format_duration
    assert [format_duration(s) for s in (None, float("nan"), 4.4, 65, 3 * 3600 + 125)] == \
        ["–", "–", "4s", "1m05s", "3h02m"]


def test_the_checkpoints_page_and_the_cli_score_a_checkpoint_alike(tmp_path, tiny_cfg, capsys):
    """One implementation of a checkpoint's MS-SWD: the command's JSON is the page's record."""
    from pgstudio.cli import main
    from pgstudio.core.analysis.checkpoint_swd import score_checkpoint
    from pgstudio.core.training.trainer import Trainer
    Trainer.new(tmp_path / "run", tiny_cfg.replace(max_kimg=0.064)).run()
    ckpt = RunFolder(tmp_path / "run").checkpoints()[-1]
    steps = []
    record = score_checkpoint(ckpt, n=16, progress=lambda done, total: steps.append((done, total)))
    assert steps and steps[-1][0] == steps[-1][1] == steps[0][1]
    assert record["checkpoint"] == str(ckpt) and record["n"] == 16 and record["kimg"] == 0.064
    assert main(["swd", str(ckpt), "--n", "16", "--json", "--data", tiny_cfg.data]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["mean"] == pytest.approx(record["mean"]) and printed["seed"] == record["seed"] == 0


def test_branch_and_resume_from_a_checkpoint_are_core_operations(tmp_path, capsys):
    from pgstudio.cli import main
    from pgstudio.core.storage.continuing import branch_from, images_seen_at, resume_from
    run = tmp_path / "run"
    shutil.copytree(FIXTURES / "progressive-logistic" / "run", run)
    ckpt = next((run / "checkpoints").glob("ckpt-*.pt"))
    assert images_seen_at(ckpt) == 64
    plan = resume_from(ckpt)
    assert plan.run.path == run.resolve() and plan.checkpoint == ckpt
    branch = branch_from(ckpt, tmp_path)
    assert branch.run.path.name == "run-branch-0.1kimg" and branch.checkpoint is None
    assert [p.name for p in branch.run.checkpoints()] == [ckpt.name]
    with pytest.raises(RunFolderError, match="already holds a run"):
        branch_from(ckpt, tmp_path)
    assert main(["branch", str(ckpt), "--name", "other"]) == 0
    assert "pgstudio resume" in capsys.readouterr().out and RunFolder(tmp_path / "other").is_run()
    assert main(["branch", str(ckpt), "--name", "other"]) == 2     # refused in one line


def readme_python_blocks(after_heading: str) -> list[str]:
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text[text.index(after_heading):]
    section = section[:section.index("\n### ", 1)]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_readmes_python_runs_as_written(tmp_path, monkeypatch):
    """The README's notebook code, executed: its import paths, names and calls (the generator
    paths pointed at the fixtures; the progressive block saves its PNG in a scratch folder)."""
    blocks = readme_python_blocks("### Using an exported generator from Python")
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(blocks[0].replace('"exported/"', repr(str(FIXTURES / "progressive-logistic" / "run"))), scope)
    assert scope["images"].shape[0] == 3 and scope["images"].dtype.name == "uint8"
    assert (tmp_path / "seed1.png").exists()
    exec(blocks[1].replace('"runs/sg2"', repr(str(FIXTURES / "stylegan2" / "run"))), scope)
    assert scope["grid"].dtype.name == "uint8" and scope["images"].shape[0] == 2
    assert scope["G"].architecture()["arch"] == "stylegan2"


def test_only_rank_zero_writes(tmp_path, tiny_cfg, monkeypatch):
    """A process that does not write (rank > 0) trains the same and leaves no trace on disk."""
    from pgstudio.core.training.distributed import DistContext
    from pgstudio.core.training.trainer import Trainer
    cfg = tiny_cfg.replace(max_kimg=0.064)
    writer = Trainer.new(tmp_path / "run", cfg)
    assert writer.run().reason == "max_kimg" and RunFolder(tmp_path / "run").checkpoints()

    class NotRankZero(DistContext):
        is_main = property(lambda self: False)
    monkeypatch.setattr(DistContext, "detect", classmethod(lambda cls: NotRankZero()))
    silent = Trainer.new(tmp_path / "silent", cfg, dataset=writer.dataset)
    assert silent.run().reason == "max_kimg"
    assert not (tmp_path / "silent").exists()
    for k, v in writer.G.state_dict().items():
        assert torch.equal(v, silent.G.state_dict()[k]), k


def test_config_problems_name_their_setting(tiny_cfg):
    problems = config_problems(tiny_cfg.replace(fade_kimg=0.0, tick_kimg=0.0, lr={8: -1.0}))
    assert {p.field for p in problems} == {"fade_kimg", "tick_kimg", "lr"}
    assert config_messages(tiny_cfg.replace(fade_kimg=0.0)) == ["phase lengths (kimg) must be positive"]
    sg2 = {p.field for p in config_problems(tiny_cfg.replace(arch="stylegan2", loss="wgan-gp", pl_interval=0))}
    assert sg2 == {"loss", "pl_interval"}


def test_the_run_form_outlines_the_field_a_problem_concerns(qtbot, window):
    form = window.setup_form
    form.fade.setValue(0)
    assert "border" in form.fade.styleSheet() and form.stabilize.styleSheet() == ""
    assert "phase lengths" in form.problems_text()
    form.fade.setValue(20)
    assert form.fade.styleSheet() == ""
