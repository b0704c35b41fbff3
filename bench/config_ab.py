"""Training speed of two configs in one process: alternating rounds of steps, one trainer each.

    python -m bench.config_ab resample=nearest resample=fir [--arch progressive] [--resolution 32]
                              [--device cpu|cuda] [--rounds 6] [--steps 16]

Each side is KEY=VALUE[,KEY=VALUE...] over the laptop preset (augment off, synthetic data), e.g.
``lazy_regularization=folded lazy_regularization=steps``. Both trainers stand at the stabilize
phase of --resolution and take turns (a round of --steps each), so a drift of the shared VM's
speed hits both alike. Prints JSON: each side's img/s and the per-round ratio A/B.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch

from bench.ab import alternating_trainers, ratio_summary
from bench.train_speed import _images_at, synthetic_dataset
from pgstudio.core.config import TrainConfig
from pgstudio.core.presets import preset_config
from pgstudio.core.training.schedule import schedule_at
from pgstudio.core.training.trainer import Trainer


def parse_side(text: str) -> dict:
    """KEY=VALUE pairs, each value read as the config field's type."""
    types = {f.name: f.type for f in TrainConfig.__dataclass_fields__.values()}
    out = {}
    for pair in text.split(","):
        key, _, value = pair.partition("=")
        if key not in types:
            raise SystemExit(f"unknown config key {key!r}")
        kind = str(types[key])
        out[key] = (int(value) if kind == "int" else float(value) if kind == "float"
                    else value.lower() in ("1", "true", "yes") if kind == "bool" else value)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--arch", default="progressive")
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--steps", type=int, default=16, help="steps per round (16 holds one lazy-R1 step)")
    a = ap.parse_args()
    sides = {a.a: parse_side(a.a), a.b: parse_side(a.b)}
    trainers = {}
    for name, overrides in sides.items():
        cfg = preset_config("laptop", demo=True, arch=a.arch, resolution=a.resolution, device=a.device,
                            augment="off", classes="off", **overrides)
        t = Trainer.new(Path(tempfile.mkdtemp()) / "run", cfg, dataset=synthetic_dataset(a.resolution))
        t.begin_tick()
        trainers[name] = (t, schedule_at(cfg, _images_at(cfg, a.resolution.bit_length() - 1, "stabilize")))
    img_per_s = alternating_trainers({name: (t, pt, None) for name, (t, pt) in trainers.items()}, a.rounds, a.steps)
    t = next(iter(trainers.values()))[0]
    print(json.dumps({"device": t.device.type, "threads": torch.get_num_threads(), "arch": a.arch,
                      "resolution": a.resolution, "rounds": a.rounds, "steps_per_round": a.steps,
                      **ratio_summary(img_per_s, a.a, a.b)}, indent=2))
    for t, _ in trainers.values():
        t.close()


if __name__ == "__main__":
    main()
