"""Projection quality on held-out images (never trained on) against training images: PSNR and the
D-feature distance of the reconstruction, steps and seconds per projection.

    python -m bench.projection_quality --source RUN --heldout DIR --train DIR [--n 20] [--steps 300]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from pgstudio.core.analysis.projection import Projection, projection_inputs

from .small_data import cpu_name


def project_folder(source: str, folder: str, n: int, steps: int, space: str | None) -> dict:
    files = sorted(Path(folder).glob("*.png"))[:n]
    psnrs, dists, secs = [], [], []
    for path in files:
        inputs = projection_inputs(source, path)
        loaded = inputs.loaded
        job = Projection(loaded.generator, loaded.level, loaded.alpha, inputs.target, space,
                         discriminator=inputs.discriminator, steps=steps)
        start = time.perf_counter()
        result = job.run()
        secs.append(time.perf_counter() - start)
        psnrs.append(result.psnr)
        dists.append(result.perceptual)
    return {"images": len(files), "psnr_db_mean": round(statistics.mean(psnrs), 2),
            "psnr_db_median": round(statistics.median(psnrs), 2),
            "feature_distance_mean": round(statistics.mean(dists), 4) if all(d is not None for d in dists) else None,
            "seconds_per_projection": round(statistics.mean(secs), 2), "loss": job.loss_kind}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--heldout", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--space")
    args = ap.parse_args()
    out = {"machine": cpu_name(), "source": args.source, "steps": args.steps,
           "heldout": project_folder(args.source, args.heldout, args.n, args.steps, args.space),
           "training": project_folder(args.source, args.train, args.n, args.steps, args.space)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
