"""Training throughput per resolution and phase, with the step split; prints JSON.

    python bench/train_speed.py [--device cpu|cuda] [--resolution R] [--preset laptop|paper]
                                [--arch progressive|stylegan2] [--loss L] [--batch N] [--levels 128,256] [--compile]
                                [--steps N] [--warmup N] [--no-split]

Besides img/s per resolution and phase it reports the step split (G step, D step, penalty),
the peak memory, the convolution/matmul FLOPs of a step (torch's FLOP counter) and, on a
known GPU, the achieved fraction of its dense bf16 peak; ``schedule_img_per_s`` is the
whole-schedule average those per-phase rates give (images of every phase over the time
each would take; ticks, grids and checkpoints not counted).

It drives the real Trainer step (same code as `pgstudio train`) on random data already in
memory, so it measures the networks, losses and optimisers, not image decoding.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pgstudio.core.families import DEFAULT, FAMILIES, family  # noqa: E402
from pgstudio.core.training import losses  # noqa: E402
from pgstudio.core.config import PRECISIONS  # noqa: E402
from pgstudio.core.presets import preset_config  # noqa: E402
from pgstudio.core.data.dataset import ImageDataset, ImportReport, box_pyramid  # noqa: E402
from pgstudio.core.training.precision import cpu_has_native_bf16  # noqa: E402
from pgstudio.core.training.schedule import schedule_at  # noqa: E402
from pgstudio.core.training.trainer import Trainer  # noqa: E402


def synthetic_dataset(resolution: int, n: int = 512) -> ImageDataset:
    rng = np.random.default_rng(0)
    top = rng.integers(0, 256, (n, 3, resolution, resolution), dtype=np.uint8)
    return ImageDataset(box_pyramid(top), np.zeros(n, np.int64), [""], ImportReport("synthetic", used=n))


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, device, steps):
    sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    sync(device)
    return (time.perf_counter() - t0) / steps


# dense (no sparsity) bf16 tensor-core peaks, TFLOP/s, from the vendors' data sheets
BF16_PEAK_TFLOPS = {"H100": 989.4, "H200": 989.4, "A100": 312.0, "L4": 121.0, "RTX 4090": 165.2}


def bf16_peak(device_name: str) -> float | None:
    return next((v for k, v in BF16_PEAK_TFLOPS.items() if k in device_name), None)


def preset_overrides(loss: str | None, batch: int | None) -> dict:
    """The config changes the benchmarks' --loss and --batch ask for (one batch at every resolution)."""
    overrides = {"loss": loss} if loss else {}
    if batch:
        overrides.update(batch={2 ** l: batch for l in range(2, 11)}, batch_default=batch)
    return overrides


def bench(args) -> dict:
    overrides = preset_overrides(args.loss, args.batch)
    # augment off: the presets' auto would turn ADA on for the small synthetic set, and the figures
    # here are the networks' step, comparable across sessions (bench/augment_cost_ab.py measures
    # the augmentation's own cost)
    cfg = preset_config(args.preset, arch=args.arch, demo=True, resolution=args.resolution,
                        device=args.device, compile=args.compile, precision=args.precision,
                        **{"augment": "off", **overrides})
    ds = synthetic_dataset(args.resolution)
    trainer = Trainer.new(Path(tempfile.mkdtemp()) / "run", cfg, dataset=ds)
    trainer.begin_tick()
    device = trainer.device
    out = {"device": device.type, "device_name": torch.cuda.get_device_name(device) if device.type == "cuda"
           else platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
           "precision": trainer.precision, "cpu_native_bf16": cpu_has_native_bf16(),
           "torch": torch.__version__, "arch": cfg.arch, "preset": args.preset, "loss": cfg.loss, "latent_size": cfg.latent_size,
           "fmap_base": cfg.fmap_base, "fmap_max": cfg.fmap_max, "compile": cfg.compile,
           "resolutions": []}
    peak = bf16_peak(out["device_name"]) if device.type == "cuda" else None
    top = int(math.log2(args.resolution))
    wanted = {int(r) for r in args.levels.split(",")} if args.levels else None
    for level in range(2 if family(cfg.arch).grows else top, top + 1):
        res = 2 ** level
        if wanted and res not in wanted:
            continue
        for phase in (("stabilize",) if level == 2 or not family(cfg.arch).grows else ("fade", "stabilize")):
            if args.phase != "both" and phase != args.phase and level > 2:
                continue
            images = _images_at(cfg, level, phase)
            pt = schedule_at(cfg, images)
            assert pt.resolution == res and pt.phase == phase
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            def step():            # the step counter drives the lazy path-length regulariser
                trainer.train_step(pt)
                trainer.step += 1
            # the warm-up must include a lazy-R1 step: its double backward has shapes of its own
            # (cuDNN autotunes them on first use), which would otherwise land in the timed steps
            interval = cfg.r1_interval if trainer.recipe.uses_r1() else 1
            timed(step, device, max(args.warmup, interval + 1))
            sec = timed(step, device, args.steps)
            row = {"resolution": res, "phase": phase, "alpha": round(pt.alpha, 3), "batch": pt.batch,
                   "img_per_s": round(pt.batch / sec, 1), "step_ms": round(sec * 1000, 2)}
            if device.type == "cuda" and "host_syncs_per_step" not in out:
                out.update(_host_syncs(trainer, pt))
            flops = _step_flops(trainer, pt)
            row["gflop_per_step"] = round(flops / 1e9, 1)
            row["achieved_tflops"] = round(flops / sec / 1e12, 2)
            if peak:
                row["bf16_peak_fraction"] = round(flops / sec / 1e12 / peak, 4)
            if not args.no_split:
                row.update(_split(trainer, pt, device, max(2, args.steps // 2)))
            if device.type == "cuda":
                row["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
            out["resolutions"].append(row)
    if not wanted:
        out["schedule_img_per_s"] = _schedule_average(cfg, out["resolutions"])
    if peak:
        out["bf16_peak_tflops"] = peak
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def _host_syncs(trainer, pt) -> dict:
    """How often one step makes the host wait for the GPU (CUDA's sync debug mode)."""
    import warnings
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            trainer.train_step(pt)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    return {"host_syncs_per_step": len(caught),
            "host_sync_examples": sorted({str(w.message)[:160] for w in caught})[:3]}


class _FlopCount:
    """Counts matmul/conv FLOPs with torch's formulas. FlopCounterMode's module tracker cannot
    follow autograd.grad (the penalties), so this dispatch mode keeps only the counting."""

    def __init__(self):
        from torch.utils._python_dispatch import TorchDispatchMode
        from torch.utils.flop_counter import flop_registry
        outer = self

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                out = func(*args, **kwargs)
                formula = flop_registry.get(func._overloadpacket)
                if formula is not None:
                    outer.total += formula(*args, **kwargs, out_val=out)
                return out
        self.total = 0
        self.mode = Mode()

    def __enter__(self):
        self.mode.__enter__()
        return self

    def __exit__(self, *exc):
        self.mode.__exit__(*exc)


def _step_flops(trainer, pt) -> float:
    """FLOPs of an average step, counted on the eager networks over one lazy-R1 interval."""
    interval = trainer.cfg.r1_interval if trainer.recipe.uses_r1() else 1
    fast = trainer.recipe.G_fast, trainer.recipe.D_fast
    trainer.recipe.G_fast, trainer.recipe.D_fast = trainer.G, trainer.D
    try:
        with _FlopCount() as counter:
            for _ in range(interval):
                trainer.train_step(pt)
    finally:
        trainer.recipe.G_fast, trainer.recipe.D_fast = fast
    return counter.total / interval


def _schedule_average(cfg, rows) -> float:
    from pgstudio.core.training.schedule import phases
    rate = {(r["resolution"], r["phase"]): r["img_per_s"] for r in rows}
    if not family(cfg.arch).grows:
        return rows[-1]["img_per_s"]
    images = seconds = 0.0
    for p in phases(cfg):
        kimg = cfg.stabilize_kimg if p.kind == "stabilize" else cfg.fade_kimg
        images += kimg * 1000
        seconds += kimg * 1000 / rate[(2 ** p.level, p.kind)]
    return round(images / seconds, 1)


def _images_at(cfg, level, phase) -> int:
    from pgstudio.core.training.schedule import phases
    p = next(p for p in phases(cfg) if p.level == level and p.kind == phase)
    return int((p.start_kimg + (0.5 if phase == "fade" else 0.0) * cfg.fade_kimg) * 1000) + 1


def _split(trainer, pt, device, steps) -> dict:
    """Time the parts of one step separately: D (loss + backward), penalty, G (loss + backward)."""
    cfg, G, D = trainer.cfg, trainer.G, trainer.D
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=trainer.amp)
    critic = lambda x: D(x, pt.level, pt.alpha)
    reals = trainer.stepper.reals(pt)
    z = torch.randn(pt.batch, cfg.latent_size, device=device)

    def d_part():
        D.requires_grad_(True)
        with torch.no_grad(), autocast:
            fakes = G(z, pt.level, pt.alpha)
        with autocast:
            loss = losses.discriminator_loss(cfg.loss, critic(reals), critic(fakes))
        loss.backward()

    def penalty_part():
        D.requires_grad_(True)
        with torch.no_grad(), autocast:
            fakes = G(z, pt.level, pt.alpha)
        if cfg.loss == "wgan-gp":
            losses.gradient_penalty(critic, reals, fakes).backward()
        else:
            losses.r1_penalty(critic, reals).backward()

    def g_part():
        D.requires_grad_(False)
        with autocast:
            loss = losses.generator_loss(cfg.loss, critic(G(z, pt.level, pt.alpha)))
        loss.backward()
    res = {"d_step_ms": round(timed(d_part, device, steps) * 1000, 2),
           "penalty_ms": round(timed(penalty_part, device, steps) * 1000, 2),
           "g_step_ms": round(timed(g_part, device, steps) * 1000, 2)}
    if cfg.loss != "wgan-gp":
        res["penalty_every"] = cfg.r1_interval
    G.zero_grad(set_to_none=True)
    D.zero_grad(set_to_none=True)
    return res


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--precision", default="auto", choices=PRECISIONS,
                   help="auto: bf16 on CUDA and on CPUs with native bf16, fp32 elsewhere")
    p.add_argument("--resolution", type=int, default=32)
    p.add_argument("--preset", default="laptop")
    p.add_argument("--arch", default=DEFAULT, choices=list(FAMILIES))
    p.add_argument("--loss", default=None)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batch", type=int, help="one batch size for every resolution (default: the preset's)")
    p.add_argument("--levels", help="only these resolutions, e.g. 128,256")
    p.add_argument("--compile", action="store_true", help="torch.compile the networks (the warm-up compiles)")
    p.add_argument("--phase", default="both", choices=["both", "fade", "stabilize"])
    p.add_argument("--no-split", action="store_true", help="skip the G/D/penalty split")
    print(json.dumps(bench(p.parse_args()), indent=2))


if __name__ == "__main__":
    main()
