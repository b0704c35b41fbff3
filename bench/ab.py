"""A/B timing inside one process: alternating rounds of training steps, one variant after the other.

On a shared VM whose speed drifts by tens of per cent between runs, separate runs of two
variants cannot resolve a 20 % difference; alternating short rounds in one process can.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Callable

from bench.train_speed import _images_at, preset_overrides, synthetic_dataset, sync
from pgstudio.core.presets import preset_config
from pgstudio.core.training.schedule import schedule_at
from pgstudio.core.training.trainer import Trainer


def parser(doc: str) -> argparse.ArgumentParser:
    """The options every A/B benchmark takes."""
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--preset", default="laptop")
    ap.add_argument("--loss", default=None)
    ap.add_argument("--batch", type=int, help="one batch size for every resolution (default: the preset's)")
    ap.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--steps", type=int, default=16, help="steps per round (16 holds one lazy-R1 step)")
    return ap


def stabilize_trainer(a: argparse.Namespace):
    """A Trainer on synthetic data and the stabilize point at ``a.resolution``, ready for _train_step."""
    cfg = preset_config(a.preset, demo=True, resolution=a.resolution, device=a.device, precision=a.precision,
                        **{"augment": "off", **preset_overrides(a.loss, a.batch)})   # the networks alone
    trainer = Trainer.new(Path(tempfile.mkdtemp()) / "run", cfg, dataset=synthetic_dataset(a.resolution))
    trainer.begin_tick()
    return trainer, schedule_at(cfg, _images_at(cfg, a.resolution.bit_length() - 1, "stabilize"))


def alternating_rounds(trainer, pt, variants: dict[str, Callable[[], None]], rounds: int, steps: int
                       ) -> dict[str, list[float]]:
    """img/s of each round per variant; ``variants`` maps a name to what switches it on.
    Round 0 warms every variant up (allocator, cuDNN autotuning) and is not counted."""
    return alternating_trainers({name: (trainer, pt, on) for name, on in variants.items()}, rounds, steps)


def alternating_trainers(variants: dict[str, tuple], rounds: int, steps: int) -> dict[str, list[float]]:
    """The same, each variant a (trainer, schedule point, switch or None): one trainer switched
    between forms, or a trainer per config (bench/config_ab.py)."""
    img_per_s: dict[str, list[float]] = {name: [] for name in variants}
    for round_index in range(rounds + 1):
        for name, (trainer, pt, switch_on) in variants.items():
            if switch_on is not None:
                switch_on()
            sync(trainer.device)
            t0 = time.perf_counter()
            for _ in range(steps):
                trainer.train_step(pt)
            sync(trainer.device)
            if round_index:
                img_per_s[name].append(pt.batch * steps / (time.perf_counter() - t0))
    return img_per_s


def ratio_summary(img_per_s: dict[str, list[float]], a: str, b: str) -> dict:
    """Mean img/s of each variant and the per-round a/b ratio's median and range."""
    ratios = sorted(x / y for x, y in zip(img_per_s[a], img_per_s[b]))
    return {**{f"{name}_img_per_s": round(sum(v) / len(v), 1) for name, v in img_per_s.items()},
            "ratio_per_round_median": round(ratios[len(ratios) // 2], 3),
            "ratio_per_round_range": [round(ratios[0], 3), round(ratios[-1], 3)]}
