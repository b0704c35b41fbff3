import math
import os
import pickle

import pytest
import torch

from pgstudio.core.training import events as ev
from pgstudio.core.storage.checkpoint import CheckpointError, load_checkpoint
from pgstudio.core.data.dataset import import_folder
from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.training.trainer import Trainer
from pgstudio.core.config import TrainConfig
from tests.conftest import assert_same_training_state, poison_generator_loss


@pytest.mark.parametrize("loss, stop_kimg", [("wgan-gp", 0.384), ("logistic", 0.2)])
def test_resume_equals_uninterrupted(tmp_path, tiny_cfg, loss, stop_kimg):
    """Stop at M kimg (mid-fade for 0.384), resume to N: the same weights as a straight run to N."""
    cfg = tiny_cfg.replace(loss=loss, r1_interval=4, max_kimg=0.64)
    ds = import_folder(cfg.data, 8)
    straight = Trainer.new(tmp_path / "straight", cfg, dataset=ds)
    assert straight.run().reason == "max_kimg"

    first = Trainer.new(tmp_path / "split", cfg.replace(max_kimg=stop_kimg), dataset=ds)
    assert first.run().reason == "max_kimg"
    if stop_kimg == 0.384:
        assert first.last_stats["phase"] == "fade" and 0 < first.last_stats["alpha"] < 1
    resumed = Trainer.resume(tmp_path / "split", max_kimg=0.64, dataset=ds)
    assert resumed.run().reason == "max_kimg"
    assert_same_training_state(straight, resumed)
    # the history has no duplicate ticks after the resume
    ticks = [r["kimg"] for r in RunFolder(tmp_path / "split").read_metrics()[0] if r["kind"] == "tick"]
    assert ticks == sorted(set(ticks))


def test_run_folder_contract(tmp_path, tiny_cfg):
    seen = []
    cfg = tiny_cfg.replace(metric_kimg=0.256, metric_n=32)
    t = Trainer.new(tmp_path / "run", cfg, on_event=seen.append)
    result = t.run()
    assert result.reason == "completed"
    run = RunFolder(tmp_path / "run")
    assert run.read_config() == cfg
    records, _ = run.read_metrics()
    ticks = [r for r in records if r["kind"] == "tick"]
    for key in ("kimg", "step", "wall_s", "resolution", "alpha", "phase", "batch", "loss_d", "loss_g",
                "img_per_s", "sec_per_kimg"):
        assert key in ticks[0]
    assert {r["resolution"] for r in ticks} == {4, 8}
    swd = [r for r in records if r["kind"] == "swd"]
    assert swd and {"kimg", "resolution", "levels", "mean", "floor"} <= set(swd[0]) and swd[0]["floor"] is not None
    assert any(isinstance(e, ev.MetricEvent) for e in seen)
    assert {r["phase"] for r in ticks} == {"stabilize", "fade"}
    assert any(0 < r["alpha"] < 1 for r in ticks)
    samples, _ = run.read_samples()
    assert samples[0].kimg == 0 and all(s.path.exists() for s in samples)
    assert {s.resolution for s in samples} == {4, 8}
    assert run.checkpoints() and run.log_path.read_text().count("tick") >= len(ticks)
    kinds = {type(e).__name__ for e in seen}
    assert {"TickEvent", "SamplesEvent", "PhaseEvent", "CheckpointEvent", "FinishedEvent"} <= kinds
    grids = [e for e in seen if isinstance(e, ev.SamplesEvent)]
    assert not grids[0].grid.flags.writeable
    assert any(isinstance(e, ev.PhaseEvent) and e.growth and e.resolution == 8 for e in seen)


def test_checkpoint_holds_full_state(tmp_path, tiny_cfg):
    t = Trainer.new(tmp_path / "run", tiny_cfg.replace(max_kimg=0.128))
    t.run()
    state = load_checkpoint(RunFolder(tmp_path / "run").checkpoints()[-1])
    for key in ("generator", "discriminator", "generator_ema", "opt_g", "opt_d", "images_seen", "rng",
                "config", "fixed_latents"):
        assert key in state
    assert set(state["rng"]) >= {"torch", "numpy", "python", "cuda", "train"}
    assert state["images_seen"] >= 128 and len(state["opt_d"]["state"]) > 0


def test_crafted_checkpoint_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))
    path = tmp_path / "evil.pt"
    torch.save({"format": "pgstudio-checkpoint", "payload": Evil()}, path)
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(path)
    assert not marker.exists()
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(CheckpointError):
        load_checkpoint(raw)
    assert not marker.exists()


def test_damaged_checkpoint_and_fallback(tmp_path, tiny_cfg):
    t = Trainer.new(tmp_path / "run", tiny_cfg.replace(max_kimg=0.3, checkpoint_kimg=0.128))
    t.run()
    run = RunFolder(tmp_path / "run")
    ckpts = run.checkpoints()
    assert len(ckpts) >= 2
    data = ckpts[-1].read_bytes()
    ckpts[-1].write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=ckpts[-1].name):
        load_checkpoint(ckpts[-1])
    logs = []
    resumed = Trainer.resume(tmp_path / "run", max_kimg=0.4, on_event=logs.append)
    assert resumed.images_seen == load_checkpoint(ckpts[-2])["images_seen"]
    assert any(isinstance(e, ev.LogEvent) and "damaged" in e.message for e in logs)
    resumed.close()                 # it holds the folder until it has run or is closed
    for c in run.checkpoints():
        c.write_bytes(b"junk")
    with pytest.raises(CheckpointError, match="no usable checkpoint"):
        Trainer.resume(tmp_path / "run")


def test_nonfinite_loss_stops_without_checkpoint(tmp_path, tiny_cfg, monkeypatch):
    poison_generator_loss(monkeypatch, from_call=30)
    seen = []
    t = Trainer.new(tmp_path / "run", tiny_cfg.replace(checkpoint_kimg=0.064 * 3), on_event=seen.append)
    result = t.run()
    assert result.reason == "error"
    assert "generator loss at step 29" in result.error
    errors = [e for e in seen if isinstance(e, ev.ErrorEvent)]
    assert errors and errors[0].kind == "nonfinite"
    for path in RunFolder(tmp_path / "run").checkpoints():
        state = load_checkpoint(path)
        assert state["step"] < 29
        assert all(torch.isfinite(v).all() for v in state["generator"].values())


def test_pause_stop_and_save_now(tmp_path, tiny_cfg):
    import threading
    import time
    control = ev.TrainerControl()
    seen = []
    t = Trainer.new(tmp_path / "run", tiny_cfg.replace(stabilize_kimg=100, checkpoint_kimg=1000),
                    on_event=seen.append, control=control)
    thread = threading.Thread(target=t.run)
    thread.start()
    while not any(isinstance(e, ev.TickEvent) for e in seen):
        time.sleep(0.01)
    control.pause()
    while not any(isinstance(e, ev.PausedEvent) and e.paused for e in seen):
        time.sleep(0.01)
    frozen = t.images_seen
    time.sleep(0.3)
    assert t.images_seen == frozen
    control.request_checkpoint()
    deadline = time.time() + 10
    while not any(isinstance(e, ev.CheckpointEvent) for e in seen) and time.time() < deadline:
        time.sleep(0.01)
    assert RunFolder(tmp_path / "run").checkpoints()
    control.resume()
    time.sleep(0.3)
    assert t.images_seen > frozen
    control.request_stop()
    thread.join(20)
    assert not thread.is_alive()
    assert any(isinstance(e, ev.FinishedEvent) and e.reason == "stopped" for e in seen)
    assert load_checkpoint(RunFolder(tmp_path / "run").checkpoints()[-1])["images_seen"] == t.images_seen


def test_disk_errors_are_reported(tmp_path, tiny_cfg, monkeypatch):
    from pgstudio.core.training import outputs as trainer_module
    seen = []
    t = Trainer.new(tmp_path / "run", tiny_cfg.replace(checkpoint_kimg=0.128), on_event=seen.append)

    def full(obj, path):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(trainer_module, "atomic_torch_save", full)
    result = t.run()
    assert result.reason == "error" and "No space left" in result.error
    assert [e.kind for e in seen if isinstance(e, ev.ErrorEvent)] == ["disk"]


def _adam_steps(t) -> tuple[int, int]:
    first = t.G.first.dense.weight
    d_first = next(p for p in t.D.parameters() if p in t.opt_d.state)
    return int(t.opt_g.state[first]["step"]), int(t.opt_d.state[d_first]["step"])


def test_optimizer_reset_at_growth_as_configs_from_before_the_key_say(tmp_path, tiny_cfg):
    import json
    old = {k: v for k, v in json.loads(tiny_cfg.to_json()).items() if k != "reset_optimizer"}
    cfg = TrainConfig.from_json(json.dumps({**old, "reset_optimizer_at_growth": True})).replace(max_kimg=0.4)
    assert cfg.reset_optimizer == "growth"
    t = Trainer.new(tmp_path / "run", cfg)
    t.run()
    steps_since_growth = (t.images_seen - int(tiny_cfg.stabilize_kimg * 1000)) // 16
    assert _adam_steps(t)[0] == steps_since_growth < t.step
    assert TrainConfig.from_json(json.dumps(old)).reset_optimizer == "never"


def test_adam_starts_afresh_at_both_lod_boundaries_and_resumes_exactly(tmp_path, tiny_cfg):
    """The official reset_opt_for_new_lod: at a fade's start (floor(lod) changes) and at its end
    (ceil(lod) changes); counted on G's and D's Adam state, and a resume in between lands on the
    same weights as the run that never stopped."""
    cfg = tiny_cfg.replace(max_kimg=0.64)          # 4² to 0.256, fade to 0.512, 8² stabilize after
    assert cfg.reset_optimizer == "lod"
    t = Trainer.new(tmp_path / "run", cfg)
    t.run()
    steps_since_fade_end = (t.images_seen - int((tiny_cfg.stabilize_kimg + tiny_cfg.fade_kimg) * 1000)) // 16
    g_steps, d_steps = _adam_steps(t)
    assert g_steps == steps_since_fade_end and 0 < d_steps <= steps_since_fade_end < t.step
    # stopped mid-fade and resumed: the same trajectory through the boundary
    part = Trainer.new(tmp_path / "part", cfg.replace(max_kimg=0.384))
    part.run()
    resumed = Trainer.resume(tmp_path / "part", max_kimg=0.64)
    resumed.run()
    for a, b in zip(t.G.parameters(), resumed.G.parameters()):
        assert torch.equal(a, b)


def test_out_of_memory_splits_the_batch_and_keeps_the_trajectory(tmp_path, tiny_cfg, monkeypatch):
    """A (simulated) CUDA OOM halves the pass size; accumulation keeps the same effective batch."""
    cfg = tiny_cfg.replace(max_kimg=0.2)
    reference = Trainer.new(tmp_path / "ref", cfg)
    reference.run()

    seen = []
    t = Trainer.new(tmp_path / "oom", cfg, on_event=seen.append)
    real_forward = type(t.D).forward

    def limited(self, image, level=None, alpha=1.0):
        if image.shape[0] > 8:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_forward(self, image, level, alpha)
    monkeypatch.setattr(type(t.D), "forward", limited)
    assert t.run().reason == "max_kimg"
    assert t.accum == {4: 2}
    records = RunFolder(tmp_path / "oom").read_metrics()[0]
    assert [r["micro_batches"] for r in records if r.get("event") == "batch_split"] == [2]
    assert all(r["micro_batches"] == 2 and r["batch"] == 16 for r in records if r["kind"] == "tick")
    assert any(isinstance(e, ev.LogEvent) and "out of memory" in e.message for e in seen)
    for k, v in reference.G.state_dict().items():
        assert (v - t.G.state_dict()[k]).abs().max() < 1e-5, k
    assert load_checkpoint(RunFolder(tmp_path / "oom").checkpoints()[-1])["accum"] == {"4": 2}


def test_compiled_training_grows_without_recompiling_per_alpha(tmp_path, tiny_cfg, monkeypatch):
    """--compile traces each level/phase once (α is a tensor while fading) and trains the same run."""
    import torch._dynamo
    monkeypatch.setenv("PGSTUDIO_COMPILE_BACKEND", "eager")     # dynamo tracing without a C++ build
    torch._dynamo.reset()
    cfg = tiny_cfg.replace(max_kimg=0.64)
    ds = import_folder(cfg.data, 8)
    eager = Trainer.new(tmp_path / "eager", cfg, dataset=ds)
    assert eager.run().reason == "max_kimg"
    compiled = Trainer.new(tmp_path / "compiled", cfg.replace(compile=True), dataset=ds)
    assert compiled.run().reason == "max_kimg"
    events = [r for r in RunFolder(tmp_path / "compiled").read_metrics()[0] if r.get("event") == "compile"]
    assert [(e["resolution"], e["fade"]) for e in events] == [(4, False), (8, True), (8, False)]
    for name, p in compiled.G.state_dict().items():
        assert torch.allclose(p, eager.G.state_dict()[name], atol=1e-4), name
    torch._dynamo.reset()


def test_run_from_before_the_fused_downsample_resumes_with_its_discriminator(tmp_path, tiny_cfg):
    """A run folder whose config predates the option keeps the D form it was trained with."""
    import json
    cfg = tiny_cfg.replace(max_kimg=0.2)
    ds = import_folder(cfg.data, 8)
    assert Trainer.new(tmp_path / "run", cfg, dataset=ds).run().reason == "max_kimg"
    config_path = tmp_path / "run" / "config.json"
    written = json.loads(config_path.read_text())
    assert written["d_downsample"] == "fused"
    del written["d_downsample"]                       # as pgstudio wrote it before the option
    config_path.write_text(json.dumps(written))
    resumed = Trainer.resume(tmp_path / "run", max_kimg=0.3, dataset=ds)
    assert resumed.cfg.d_downsample == "after-activation" and not resumed.D.blocks["3"].fused
    assert resumed.run().reason == "max_kimg"
    assert json.loads(config_path.read_text())["d_downsample"] == "after-activation"   # now explicit


@pytest.mark.parametrize("loss", ["wgan-gp", "logistic"])
def test_mixed_precision_step_through_the_fused_convs(tmp_path, tiny_cfg, monkeypatch, loss):
    """The CUDA path (bf16 autocast around G and D, the penalty's pass in fp32) through the fused
    resampling convs, exercised with CPU autocast: finite losses, every grown weight moves."""
    from pgstudio.core.networks import layers
    from pgstudio.core.training.schedule import schedule_at
    monkeypatch.setattr(layers, "FUSED_MIN_PIXELS", 0)
    cfg = tiny_cfg.replace(loss=loss, r1_interval=2, precision="bf16")    # what auto picks on CUDA
    trainer = Trainer.new(tmp_path / "run", cfg, dataset=import_folder(cfg.data, 8))
    assert trainer.amp
    trainer.begin_tick()
    pt = schedule_at(cfg, int(0.64 * 1000))             # 8x8, stabilize: one G and one D block grown
    assert pt.resolution == 8 and pt.phase == "stabilize"
    def grown():         # the 8x8 blocks and their toRGB / fromRGB, in G and in D
        return {f"{net}.{n}": p for net in ("G", "D") for n, p in getattr(trainer, net).named_parameters()
                if n.startswith(("blocks.3.", "to_rgb.3.", "from_rgb.3."))}
    before = {n: p.detach().clone() for n, p in grown().items()}
    assert len(before) == 12
    for _ in range(3):
        trainer.train_step(pt)
    means = trainer.stats.means()
    assert math.isfinite(means["loss_d"]) and math.isfinite(means["loss_g"])
    assert math.isfinite(means["penalty"]) and means["penalty"] > 0
    still = [n for n, p in grown().items() if torch.equal(p.detach(), before[n])]
    assert not still, still
