"""Transfer learning against training from scratch: MS-SWD against held-out images over kimg.

The origin is a finished run on one data set (e.g. bench/small_data.py's emoji run); each seed
trains a new run on another folder twice — from scratch (growing from 4x4) and started from the
origin (at its level, transfer.py) — and scores the EMA generator every few kimg against held-out
images of the new folder (a level below the target is upsampled, so every score is at the
target resolution).

    python -m bench.transfer_speed --origin /tmp/sd/runs/emoji-off-s0 \
        --data /tmp/pgstudio-small-data/fashion/train --heldout /tmp/pgstudio-small-data/fashion/heldout \
        --kimg 60 --every 5 --seeds 0 1 --out bench/results/transfer_speed.json
"""
from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from pgstudio.core.analysis.export import render
from pgstudio.core.analysis.metrics import ms_swd
from pgstudio.core.presets import preset_config
from pgstudio.core.data.dataset import load_dataset
from pgstudio.core.training.events import TickEvent
from pgstudio.core.training.trainer import Trainer
from pgstudio.core.training.transfer import configured, matching_settings, read_origin

from .small_data import cpu_name


def score(G, level: int, alpha: float, held: np.ndarray, resolution: int, n: int) -> float:
    z = torch.randn(n, G.latent_size, generator=torch.Generator().manual_seed(99))
    fakes = torch.from_numpy(render(G, z, level, alpha, batch=256)).permute(0, 3, 1, 2).contiguous()
    if fakes.shape[-1] != resolution:      # below the target: nearest upsampling to it
        fakes = fakes.repeat_interleave(resolution // fakes.shape[-1], 2).repeat_interleave(
            resolution // fakes.shape[-1], 3)
    levels = ms_swd(torch.from_numpy(held[:n]), fakes, seed=5)
    return round(sum(levels) / len(levels), 2)


def train(kind: str, seed: int, args, origin) -> dict:
    run_dir = Path(args.runs) / f"{kind}-s{seed}"
    shutil.rmtree(run_dir, ignore_errors=True)
    overrides = dict(data=str(Path(args.data).resolve()), seed=seed, max_kimg=args.kimg, checkpoint_kimg=1e6,
                     sample_kimg=args.kimg / 3, augment="off", stabilize_kimg=args.phase_kimg,
                     fade_kimg=args.phase_kimg)
    overrides.update(matching_settings(origin))          # the same networks either way
    cfg = preset_config("laptop", **overrides)
    if kind == "transfer":
        cfg = configured(cfg, origin)
    held = load_dataset(args.heldout, False, cfg.resolution, "crop", cfg.channels).levels[cfg.resolution]
    curve = {"kimg": [], "swd": [], "resolution": []}
    trainer = None
    next_at = [0.0]

    def listen(event):
        if isinstance(event, TickEvent) and event.tick.kimg >= next_at[0]:
            tick = event.tick
            curve["kimg"].append(round(tick.kimg, 3))
            curve["resolution"].append(tick.resolution)
            curve["swd"].append(score(trainer.G_ema, int(np.log2(tick.resolution)), tick.alpha, held,
                                      cfg.resolution, args.n))
            next_at[0] += args.every
    t0 = time.time()
    trainer = Trainer.new(run_dir, cfg, origin=origin if kind == "transfer" else None, on_event=listen)
    trainer.run()
    return {"kind": kind, "seed": seed, "seconds": round(time.time() - t0, 1), "curve": curve,
            "final": score(trainer.G_ema, int(np.log2(cfg.resolution)), 1.0, held, cfg.resolution, args.n)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--origin", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--heldout", required=True)
    ap.add_argument("--kimg", type=float, default=60.0)
    ap.add_argument("--phase-kimg", type=float, default=15.0)
    ap.add_argument("--every", type=float, default=5.0)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--runs", default="/tmp/pgstudio-transfer/runs")
    ap.add_argument("--out", default="transfer_speed.json")
    args = ap.parse_args(argv)
    origin = read_origin(args.origin)
    doc = {"cpu": cpu_name(), "torch": torch.__version__, "origin": str(origin.path),
           "origin_position": [origin.position.kimg, origin.position.resolution],
           "settings": {k: v for k, v in vars(args).items() if k != "out"}, "runs": []}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        for kind in ("scratch", "transfer"):
            record = train(kind, seed, args, origin)
            doc["runs"].append(record)
            out.write_text(json.dumps(doc, indent=1))
            print(kind, seed, list(zip(record["curve"]["kimg"], record["curve"]["swd"])), "final", record["final"],
                  flush=True)


if __name__ == "__main__":
    main()
