"""Training throughput per resolution and phase, with the step split; prints JSON.

    python bench/train_speed.py [--device cpu|cuda] [--resolution R] [--preset laptop|paper]
                                [--loss L] [--steps N] [--warmup N]

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

from pgstudio.core import losses  # noqa: E402
from pgstudio.core.config import preset_config  # noqa: E402
from pgstudio.core.dataset import ImageDataset, ImportReport, box_pyramid  # noqa: E402
from pgstudio.core.schedule import schedule_at  # noqa: E402
from pgstudio.core.trainer import Trainer  # noqa: E402


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


def bench(args) -> dict:
    cfg = preset_config(args.preset, demo=True, resolution=args.resolution, device=args.device,
                        **({"loss": args.loss} if args.loss else {}))
    ds = synthetic_dataset(args.resolution)
    trainer = Trainer.new(Path(tempfile.mkdtemp()) / "run", cfg, dataset=ds)
    trainer._reset_accumulators()
    device = trainer.device
    out = {"device": device.type, "device_name": torch.cuda.get_device_name(device) if device.type == "cuda"
           else platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
           "torch": torch.__version__, "preset": args.preset, "loss": cfg.loss, "latent_size": cfg.latent_size,
           "fmap_base": cfg.fmap_base, "fmap_max": cfg.fmap_max, "resolutions": []}
    top = int(math.log2(args.resolution))
    for level in range(2, top + 1):
        res = 2 ** level
        for phase in (("stabilize",) if level == 2 else ("fade", "stabilize")):
            images = _images_at(cfg, level, phase)
            pt = schedule_at(cfg, images)
            assert pt.resolution == res and pt.phase == phase
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            step = lambda: trainer._train_step(pt)
            timed(step, device, args.warmup)
            sec = timed(step, device, args.steps)
            row = {"resolution": res, "phase": phase, "alpha": round(pt.alpha, 3), "batch": pt.batch,
                   "img_per_s": round(pt.batch / sec, 1), "step_ms": round(sec * 1000, 2)}
            row.update(_split(trainer, pt, device, max(2, args.steps // 2)))
            if device.type == "cuda":
                row["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
            out["resolutions"].append(row)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def _images_at(cfg, level, phase) -> int:
    from pgstudio.core.schedule import phases
    p = next(p for p in phases(cfg) if p.level == level and p.kind == phase)
    return int((p.start_kimg + (0.5 if phase == "fade" else 0.0) * cfg.fade_kimg) * 1000) + 1


def _split(trainer, pt, device, steps) -> dict:
    """Time the parts of one step separately: D (loss + backward), penalty, G (loss + backward)."""
    cfg, G, D = trainer.cfg, trainer.G, trainer.D
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=trainer.amp)
    critic = lambda x: D(x, pt.level, pt.alpha)
    reals = trainer._reals(pt)
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
    p.add_argument("--resolution", type=int, default=32)
    p.add_argument("--preset", default="laptop")
    p.add_argument("--loss", default=None)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    print(json.dumps(bench(p.parse_args()), indent=2))


if __name__ == "__main__":
    main()
