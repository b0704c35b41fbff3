"""Before/after the recipe fixes of issue #27: train, then score on images the run never saw.

    python -m bench.quality_table SPLIT --arch progressive --variant after --seeds 0 1 2
                                  [--preset laptop|wider] [--phase-kimg 10] [--resolution 32]
                                  [--runs DIR] [--out bench/results/quality_table.json]

SPLIT holds train/ and heldout/ (bench/holdout_split.py). "before" trains with the behaviour of
the code before the fixes, which today's code keeps for configs written then (Adam never reset,
R1 and path length folded into the main step with the lazy correction, StyleGAN2's D block
downsampling first, nearest resampling in the progressive family); "after" with today's defaults and the official D block;
"folded" and "nearest" are "after" with one choice undone, to see what each is worth.
Each run's EMA generator is scored at the end: MS-SWD (x1000, mean over levels) of as many fakes
as there are held-out images against all of them (fresh noise per sample), and the spectra's
worst axis excess (bench/spectra.py). Rows are appended to --out; the training reals against the
held-out ones give the yardstick row once per split.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from pgstudio.core.analysis.metrics import swd_of_generator, swd_record
from pgstudio.core.analysis.export import render
from pgstudio.core.analysis.spectrum import compare, power_spectrum
from pgstudio.core.presets import preset_config
from pgstudio.core.data.dataset import import_folder
from pgstudio.core.training.trainer import Trainer
from bench.small_data import cpu_name

BEFORE = dict(reset_optimizer="never", lazy_regularization="folded-corrected", d_block="fir-then-conv",
              resample="nearest")
# the laptop preset's networks with four times the feature maps at the top (D and G 128 wide)
WIDER = dict(fmap_base=1024, fmap_max=128, latent_size=128)


def score(trainer: Trainer, heldout: np.ndarray, seed: int) -> dict:
    G, level, alpha = trainer.G_ema, trainer.G_ema.max_level, 1.0      # the finished run's full resolution
    n = heldout.shape[0]
    record = swd_of_generator(G, level, alpha, heldout, n, seed=seed, with_floor=False)
    z = torch.randn(n, G.latent_size, generator=torch.Generator().manual_seed(seed + 1))
    fakes = render(G, z, level, alpha, noise_seed=seed).transpose(0, 3, 1, 2)
    spectra = compare(power_spectrum(fakes), power_spectrum(heldout)).as_dict()
    return {"ms_swd": record["mean"], "levels": record["levels"], "n": n,
            "fy_axis": spectra["vertical_frequency_axis"], "fx_axis": spectra["horizontal_frequency_axis"],
            "worst_axis": spectra["worst_axis"], "off_axis": spectra["off_axis"]}


def yardstick(train: np.ndarray, heldout: np.ndarray, seed: int) -> dict:
    n = heldout.shape[0]
    pick = np.random.default_rng(seed).permutation(train.shape[0])[:n]
    record = swd_record(torch.from_numpy(heldout), torch.from_numpy(train[pick]), None, seed=seed)
    spectra = compare(power_spectrum(train[pick]), power_spectrum(heldout)).as_dict()
    return {"ms_swd": record["mean"], "n": n, "fy_axis": spectra["vertical_frequency_axis"],
            "fx_axis": spectra["horizontal_frequency_axis"], "worst_axis": spectra["worst_axis"],
            "off_axis": spectra["off_axis"]}


def report(paths: list[Path]) -> str:
    """A markdown table of the rows in these files: per split, family, preset, resolution and budget,
    each variant's MS-SWD per seed, mean and spread, and its spectra's axis ratios (means; the off-axis
    band where recorded). A row without its resolution takes its file's yardstick's."""
    rows, yardsticks = [], {}
    for p in paths:
        file_rows = json.loads(p.read_text())["rows"]
        res = next((r["resolution"] for r in file_rows if r["variant"] == "yardstick"), None)
        for r in file_rows:
            r = {"resolution": res, **r}
            if r["variant"] == "yardstick":
                yardsticks[(r["split"], r["resolution"])] = r
            else:
                rows.append(r)
    lines = ["| data | family | preset | res | kimg | variant | seeds | MS-SWD per seed | mean ± sd | "
             "fy / fx axis | off axis |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["split"], r["arch"], r["preset"], r["resolution"], round(r["kimg"]), r["variant"]),
                          []).append(r)
    for (split, arch, preset, res, kimg, variant), rs in sorted(groups.items()):
        rs = sorted(rs, key=lambda r: r["seed"])
        scores = np.array([r["ms_swd"] for r in rs])
        fy = np.mean([r["fy_axis"] for r in rs])
        fx = np.mean([r["fx_axis"] for r in rs])
        off = [r["off_axis"] for r in rs if "off_axis" in r]
        seeds = ",".join(str(r["seed"]) for r in rs)
        per_seed = " / ".join(f"{v:.1f}" for v in scores)
        off_text = f"{np.mean(off):.2f}" if len(off) == len(rs) else ""
        lines.append(f"| {Path(split).name} | {arch} | {preset} | {res}² | {kimg} | {variant} | {seeds} | {per_seed} | "
                     f"**{scores.mean():.1f}** ± {scores.std():.1f} | {fy:.2f} / {fx:.2f} | {off_text} |")
    for (split, res), r in sorted(yardsticks.items()):
        lines.append(f"| {Path(split).name} | training reals vs held-out | | {res}² | | | | | {r['ms_swd']:.1f} | "
                     f"{r['fy_axis']:.2f} / {r['fx_axis']:.2f} | "
                     f"{format(r['off_axis'], '.2f') if 'off_axis' in r else ''} |")
    return "\n".join(lines)


def main() -> None:
    if sys.argv[1:2] == ["--report"]:       # python -m bench.quality_table --report FILE...
        print(report([Path(p) for p in sys.argv[2:]]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("split", type=Path)
    ap.add_argument("--arch", default="progressive", choices=["progressive", "stylegan2"])
    ap.add_argument("--variant", required=True, choices=["before", "after", "folded", "nearest", "old-d-block"],
                    help="before / after the fixes; folded: after, with the lazy terms folded into the main "
                         "step uncorrected; nearest: after, with the progressive family's nearest resampling; "
                         "old-d-block: after, with StyleGAN2's D block as before")
    ap.add_argument("--preset", default="laptop", choices=["laptop", "wider"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--phase-kimg", type=float, default=10.0)
    ap.add_argument("--max-kimg", type=float, help="StyleGAN2: its budget (default: the progressive schedule's)")
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--runs", type=Path, default=Path("/tmp/quality_runs"))
    ap.add_argument("--out", type=Path, default=Path("bench/results/quality_table.json"))
    a = ap.parse_args()
    train = import_folder(a.split / "train", a.resolution)
    heldout = import_folder(a.split / "heldout", a.resolution).levels[a.resolution]
    table = json.loads(a.out.read_text()) if a.out.exists() else {"cpu": cpu_name(), "threads": torch.get_num_threads(),
                                                                  "rows": []}
    if not any(r.get("split") == str(a.split) and r["variant"] == "yardstick" for r in table["rows"]):
        table["rows"].append({"split": str(a.split), "variant": "yardstick", "resolution": a.resolution,
                              **yardstick(train.levels[a.resolution], heldout, 0)})
    for seed in a.seeds:
        overrides = dict(arch=a.arch, resolution=a.resolution, stabilize_kimg=a.phase_kimg, fade_kimg=a.phase_kimg,
                         seed=seed, augment="off", classes="off", device="cpu", precision="fp32",
                         tick_kimg=2.0, sample_kimg=1000.0, checkpoint_kimg=1000.0, metric_kimg=0.0)
        if a.preset == "wider":
            overrides.update(WIDER)
        if a.variant != "before":       # the official block, said outright (a preset may choose another)
            overrides["d_block"] = "blur-stride"
        if a.variant == "before":
            overrides.update(BEFORE)
        elif a.variant == "folded":
            overrides["lazy_regularization"] = "folded"
        elif a.variant == "nearest":
            overrides["resample"] = "nearest"
        elif a.variant == "old-d-block":
            overrides["d_block"] = "fir-then-conv"
        levels = int(np.log2(a.resolution)) - 2
        overrides["max_kimg"] = a.max_kimg or a.phase_kimg * (2 * levels + 1)
        cfg = preset_config("laptop", data=str(a.split / "train"), **overrides)
        folder = a.runs / f"{a.split.name}-{a.arch}-{a.preset}-{a.variant}-s{seed}"
        if folder.exists():
            import shutil
            shutil.rmtree(folder)
        t0 = time.perf_counter()
        trainer = Trainer.new(folder, cfg, dataset=train)
        result = trainer.run()
        seconds = time.perf_counter() - t0
        row = {"split": str(a.split), "arch": a.arch, "preset": a.preset, "variant": a.variant, "seed": seed,
               "resolution": a.resolution,
               "kimg": round(trainer.images_seen / 1000, 2), "stop": result.reason, "train_s": round(seconds),
               **score(trainer, heldout, seed)}
        trainer.close()
        print(json.dumps(row), flush=True)
        table["rows"].append(row)
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
