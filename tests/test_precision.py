"""Which precision a run trains in: the rule, the config, and what the trainer does with it."""
import json

import pytest
import torch

from pgstudio.core.training import precision
from pgstudio.core.config import TrainConfig
from pgstudio.core.families import family
from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.families.stylegan2.generator import StyleGAN2Generator
from pgstudio.core.training.trainer import Trainer
from pgstudio.core.validation import config_messages

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def resolve_precision(name, device, arch=None):
    return family(arch).resolve_precision(name, device)


def describe_precision(resolved, device, arch=None):
    return family(arch).describe_precision(resolved, device)


@pytest.mark.parametrize("native", [False, True])
def test_auto_takes_bf16_only_where_the_hardware_has_it(monkeypatch, native):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: native)
    assert resolve_precision("auto", CPU) == ("bf16" if native else "fp32")
    assert resolve_precision("auto", CUDA) == "bf16"
    for device in (CPU, CUDA):                    # an explicit choice is kept on either device
        assert resolve_precision("fp32", device) == "fp32" and resolve_precision("bf16", device) == "bf16"
    # StyleGAN2's per-block bf16 exists on CUDA only
    assert resolve_precision("auto", CPU, "stylegan2") == "fp32"
    assert resolve_precision("auto", CUDA, "stylegan2") == "bf16"
    assert resolve_precision("fp32", CUDA, "stylegan2") == "fp32"
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("fp16", CPU)


def test_the_log_warns_about_bf16_on_a_cpu_without_it(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    assert "10x slower" in describe_precision("bf16", CPU)
    assert "slower" not in describe_precision("bf16", CUDA) and describe_precision("fp32", CPU) == "fp32"
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    assert "slower" not in describe_precision("bf16", CPU)


def test_native_bf16_probe_agrees_with_the_cpus_own_flags():
    """The probe against what the kernel says of this CPU: its flags name avx512_bf16 or amx_bf16
    exactly when the probe says native bf16 (a probe that always said False, or always True, fails
    on one kind of machine or the other; the suite runs on both)."""
    import platform
    from pathlib import Path
    cpuinfo = Path("/proc/cpuinfo")
    if platform.system() != "Linux" or not cpuinfo.exists() or platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("the flags are read from Linux's /proc/cpuinfo on x86")
    flags = set()
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            flags |= set(line.split(":", 1)[1].split())
    assert precision.cpu_has_native_bf16() == bool(flags & {"avx512_bf16", "amx_bf16", "amx_tile"})


def test_config_rules_and_older_configs(tiny_cfg):
    assert TrainConfig().precision == "auto" and config_messages(tiny_cfg) == []
    assert any("precision must be one of" in p for p in config_messages(tiny_cfg.replace(precision="fp16")))
    sg2 = tiny_cfg.replace(arch="stylegan2", loss="logistic")
    assert config_messages(sg2) == [] and config_messages(sg2.replace(precision="fp32")) == []
    assert any("per block" in p for p in config_messages(sg2.replace(precision="bf16")))
    legacy = tiny_cfg.replace(precision="auto").to_dict()
    del legacy["precision"]                       # a run folder from before the setting
    assert TrainConfig.from_dict(legacy).precision == "auto"


def test_auto_on_a_native_bf16_cpu_trains_in_bf16_and_says_so(tmp_path, tiny_cfg, monkeypatch):
    """The whole path: config auto → trainer autocast → the tick records and the log."""
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    seen = []
    real_autocast = torch.autocast

    def spying_autocast(device_type, dtype=None, enabled=True, **kw):
        seen.append((device_type, dtype, enabled))
        return real_autocast(device_type, dtype=dtype, enabled=enabled, **kw)
    monkeypatch.setattr(torch, "autocast", spying_autocast)
    trainer = Trainer.new(tmp_path / "run", tiny_cfg.replace(precision="auto", max_kimg=0.128))
    assert trainer.precision == "bf16" and trainer.amp
    assert trainer.run().reason == "max_kimg"
    assert ("cpu", torch.bfloat16, True) in seen
    ticks = [r for r in RunFolder(tmp_path / "run").read_metrics()[0] if r["kind"] == "tick"]
    assert ticks and all(t["precision"] == "bf16" and t["device"] == "cpu" for t in ticks)
    assert all(torch.isfinite(torch.tensor([t["loss_d"], t["loss_g"]])).all() for t in ticks)
    assert "on cpu (bf16 autocast, penalties in fp32)" in (tmp_path / "run" / "log.txt").read_text()
    assert json.loads((tmp_path / "run" / "config.json").read_text())["precision"] == "auto"


def test_fp32_trains_without_autocast(tmp_path, tiny_cfg, monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    trainer = Trainer.new(tmp_path / "run", tiny_cfg.replace(precision="fp32", max_kimg=0.064))
    assert trainer.precision == "fp32" and not trainer.amp
    trainer.run()
    ticks = [r for r in RunFolder(tmp_path / "run").read_metrics()[0] if r["kind"] == "tick"]
    assert ticks and all(t["precision"] == "fp32" for t in ticks)


def test_stylegan2_fp32_turns_its_bf16_blocks_off(tmp_path, tiny_cfg):
    cfg = tiny_cfg.replace(arch="stylegan2", loss="logistic", mapping_layers=2)
    assert StyleGAN2Generator(8, 3, latent_size=16, fmap_base=64, fmap_max=16, mapping_layers=2).bf16_blocks > 0
    for name in ("auto", "fp32"):                  # auto on a CPU is fp32 for StyleGAN2
        trainer = Trainer.new(tmp_path / name, cfg.replace(precision=name))
        assert trainer.precision == "fp32"
        assert trainer.G.bf16_blocks == trainer.D.bf16_blocks == trainer.G_ema.bf16_blocks == 0
