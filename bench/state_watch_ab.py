"""What the per-step watch of weights and Adam moments costs, in one process; prints JSON.

    python bench/state_watch_ab.py [--device cpu|cuda] [--resolution 32] [--preset laptop]
                                   [--loss L] [--batch N] [--precision P] [--rounds 6] [--steps 16]

Each step, the trainer checks on the device that G's and D's weights and both optimizers'
moments are finite (one fused max-abs norm, no host sync; health.FiniteWatch). One
Trainer runs alternating rounds with the check as shipped and with it replaced by a constant,
in the stabilize phase at the given resolution; alternating inside one process, as in
fused_ab.py, because this VM's speed drifts by tens of per cent between separate runs.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.train_speed import _images_at, preset_overrides, synthetic_dataset, sync  # noqa: E402
from pgstudio.core.health import FiniteWatch  # noqa: E402
from pgstudio.core.config import preset_config  # noqa: E402
from pgstudio.core.schedule import schedule_at  # noqa: E402
from pgstudio.core.trainer import Trainer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--preset", default="laptop")
    ap.add_argument("--loss", default=None)
    ap.add_argument("--batch", type=int, help="one batch size for every resolution (default: the preset's)")
    ap.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--steps", type=int, default=16, help="steps per round (16 holds one lazy-R1 step)")
    a = ap.parse_args()
    cfg = preset_config(a.preset, demo=True, resolution=a.resolution, device=a.device, precision=a.precision,
                        **preset_overrides(a.loss, a.batch))
    trainer = Trainer.new(Path(tempfile.mkdtemp()) / "run", cfg, dataset=synthetic_dataset(a.resolution))
    trainer._reset_accumulators()
    pt = schedule_at(cfg, _images_at(cfg, a.resolution.bit_length() - 1, "stabilize"))
    shipped = FiniteWatch.finite
    always = torch.ones((), dtype=torch.bool, device=trainer.device)
    variants = {"watched": shipped, "unwatched": lambda self: [always, always]}
    img_per_s = {name: [] for name in variants}
    for round_index in range(a.rounds + 1):            # round 0 warms both up
        for name, check in variants.items():
            FiniteWatch.finite = check
            sync(trainer.device)
            t0 = time.perf_counter()
            for _ in range(a.steps):
                trainer._train_step(pt)
            sync(trainer.device)
            if round_index:
                img_per_s[name].append(pt.batch * a.steps / (time.perf_counter() - t0))
    FiniteWatch.finite = shipped
    trainer.close()
    ratios = sorted(w / u for w, u in zip(img_per_s["watched"], img_per_s["unwatched"]))
    print(json.dumps({
        "device": trainer.device.type,
        "device_name": torch.cuda.get_device_name(trainer.device) if trainer.device.type == "cuda" else "cpu",
        "threads": torch.get_num_threads(), "preset": a.preset, "loss": cfg.loss, "precision": trainer.precision,
        "resolution": a.resolution, "batch": pt.batch, "rounds": a.rounds, "steps_per_round": a.steps,
        **{f"{name}_img_per_s": round(sum(v) / len(v), 1) for name, v in img_per_s.items()},
        "ratio_per_round_median": round(ratios[len(ratios) // 2], 3),
        "ratio_per_round_range": [round(ratios[0], 3), round(ratios[-1], 3)]}, indent=2))


if __name__ == "__main__":
    main()
