"""Explorer frame time: one image through the generator at 64x64 (and more), CPU; prints JSON.

    python bench/explorer_render.py [--resolution 64] [--frames 50] [--arch progressive|stylegan2]

Uses the same code the explorer's render thread calls (render(), or for StyleGAN2 mapping with
truncation toward the mean w then synthesis), at the laptop preset's widths and at the paper's
widths, with one latent per frame as when a slider moves.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pgstudio.core.presets import PRESETS  # noqa: E402
from pgstudio.core.analysis.export import render  # noqa: E402
from pgstudio.core.families import DEFAULT, FAMILIES, family, read_architecture  # noqa: E402
from pgstudio.core.analysis.latents import seeded_latents  # noqa: E402
from pgstudio.core.analysis.style_space import map_to_w, render_w  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--frames", type=int, default=50)
    p.add_argument("--arch", default=DEFAULT, choices=list(FAMILIES))
    args = p.parse_args()
    out = {"arch": args.arch, "resolution": args.resolution, "threads": torch.get_num_threads(),
           "torch": torch.__version__, "presets": []}
    for name in ("laptop", "paper"):
        pr = PRESETS[name]
        fam = family(args.arch)
        G = fam.build_generator(read_architecture({
            "arch": fam.name, "resolution": args.resolution, "image_channels": 3, "latent_size": pr["latent_size"],
            "fmap_base": pr["fmap_base"], "fmap_max": pr["fmap_max"]})).eval()
        level = int(np.log2(args.resolution))
        times = []
        for i in range(args.frames + 3):
            z = seeded_latents([i], G.latent_size)
            t0 = time.perf_counter()
            if fam.latent_space == "w":
                render_w(G, map_to_w(G, z, 0.7))
            else:
                render(G, z, level, 1.0)
            times.append(time.perf_counter() - t0)
        ms = np.asarray(times[3:]) * 1000
        out["presets"].append({"preset": name, "params_m": round(sum(p.numel() for p in G.parameters()) / 1e6, 2),
                               "frame_ms_median": round(float(np.median(ms)), 2),
                               "frame_ms_p95": round(float(np.percentile(ms, 95)), 2)})
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
