"""The fused resampling convs against the two-step form, in one process; prints JSON.

    python bench/fused_ab.py [--device cpu|cuda] [--resolution 32] [--preset laptop] [--loss L]
                             [--batch N] [--rounds 6] [--steps 16]

Both forms compute the same networks (core/layers.py: ``FUSED_MIN_PIXELS`` picks the form per
call), so one Trainer runs alternating rounds of each in the stabilize phase at the given
resolution. Alternating inside one process matters on a shared VM whose speed drifts by ±25 %:
separate runs of the two forms cannot resolve a 20 % difference there.
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
from pgstudio.core import layers  # noqa: E402
from pgstudio.core.config import preset_config  # noqa: E402
from pgstudio.core.schedule import schedule_at  # noqa: E402
from pgstudio.core.trainer import Trainer  # noqa: E402

FORMS = {"fused": layers.FUSED_MIN_PIXELS, "two_step": 2**62}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--preset", default="laptop")
    ap.add_argument("--loss", default=None)
    ap.add_argument("--batch", type=int, help="one batch size for every resolution (default: the preset's)")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--steps", type=int, default=16, help="steps per round (16 holds one lazy-R1 step)")
    a = ap.parse_args()
    cfg = preset_config(a.preset, demo=True, resolution=a.resolution, device=a.device,
                        **preset_overrides(a.loss, a.batch))
    trainer = Trainer.new(Path(tempfile.mkdtemp()) / "run", cfg, dataset=synthetic_dataset(a.resolution))
    trainer._reset_accumulators()
    pt = schedule_at(cfg, _images_at(cfg, a.resolution.bit_length() - 1, "stabilize"))
    img_per_s = {name: [] for name in FORMS}
    for round_index in range(a.rounds + 1):            # round 0 warms both forms up (cuDNN autotuning)
        for name, threshold in FORMS.items():
            layers.FUSED_MIN_PIXELS = threshold
            sync(trainer.device)
            t0 = time.perf_counter()
            for _ in range(a.steps):
                trainer._train_step(pt)
            sync(trainer.device)
            if round_index:
                img_per_s[name].append(pt.batch * a.steps / (time.perf_counter() - t0))
    ratios = sorted(f / t for f, t in zip(img_per_s["fused"], img_per_s["two_step"]))
    print(json.dumps({
        "device": trainer.device.type,
        "device_name": torch.cuda.get_device_name(trainer.device) if trainer.device.type == "cuda" else "cpu",
        "threads": torch.get_num_threads(), "preset": a.preset, "loss": cfg.loss, "resolution": a.resolution,
        "batch": pt.batch, "rounds": a.rounds, "steps_per_round": a.steps,
        **{f"{name}_img_per_s": round(sum(v) / len(v), 1) for name, v in img_per_s.items()},
        "ratio_per_round_median": round(ratios[len(ratios) // 2], 3),
        "ratio_per_round_range": [round(ratios[0], 3), round(ratios[-1], 3)]}, indent=2))


if __name__ == "__main__":
    main()
