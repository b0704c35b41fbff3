"""The survey's presets side by side (issue #28): each trained on the same folder at the same
image budget, scored against images the run never saw.

    python -m bench.survey_table SPLIT [--recipes gan dcgan …] [--families stylegan biggan …]
                                 [--seeds 0 1 2] [--kimg 10]
                                 [--resolution 32] [--kid-seeds 0] [--runs DIR]
                                 [--out bench/results/survey_SPLITNAME.json] [--grids docs/survey]
    python -m bench.survey_table --report FILE...

SPLIT holds train/ and heldout/ (bench/holdout_split.py). cGAN trains on class sub-folders: a
split whose file names start with their class (holdout_split flattens "floor/x.png" into
"floor_x.png") is given a class-folder view of train/ (symlinks), and a split without such names
has no cGAN row. Each run's generator as the studio samples it (the EMA copy, eval mode) is scored
by MS-SWD (×1000, the mean over levels) of as many fakes as there are held-out images against all
of them; with --kid-seeds, KID (×1000) on Inception features too (the [fid] extra) for those seeds.
--families adds the other families' laptop presets at the same widths and image budget (issue #29:
the lineage beside the survey): a growing family spends it on 2·levels − 1 equal phases from 4x4;
BigGAN trains on the classes as cGAN does (unconditional on a split without them), the others unconditional; augmentation off for all.
Rows are appended to --out (one file per split); the seed-0 grid of each preset is written to
--grids. Wall time is the training's alone, on the CPU named in the file.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from pgstudio.core.analysis.export import render
from pgstudio.core.analysis.metrics import swd_of_generator
from pgstudio.core.data.dataset import import_folder
from pgstudio.core.data.images import make_grid
from pgstudio.core.families import family
from pgstudio.core.presets import preset_config
from pgstudio.core.training.trainer import Trainer
from bench.small_data import cpu_name

RECIPES = list(family("classic").papers)
LINEAGE = ("progressive", "stylegan", "stylegan2", "biggan")      # --families: each one's laptop preset
CONDITIONAL = ("cgan", "biggan")


def class_view(split: Path) -> Path | None:
    """train/ as class sub-folders (symlinks), from file names "<class>_<rest>"; None when the
    names carry no classes (fewer than two prefixes with 20 images each)."""
    files = sorted((split / "train").glob("*.png"))
    classes: dict[str, list[Path]] = {}
    for f in files:
        if "_" in f.name:
            classes.setdefault(f.name.split("_", 1)[0], []).append(f)
    classes = {c: fs for c, fs in classes.items() if len(fs) >= 20}
    if len(classes) < 2 or sum(map(len, classes.values())) < 0.9 * len(files):
        return None
    view = Path("/tmp") / f"{split.name}_classes"
    for c, fs in classes.items():
        (view / c).mkdir(parents=True, exist_ok=True)
        for f in fs:
            link = view / c / f.name
            if not link.exists():
                link.symlink_to(f.resolve())
    return view


def kid_of(G, level: int, heldout_features, n: int, seed: int) -> float:
    """KID ×1000 of n fakes against the held-out images' Inception features."""
    from pgstudio.core.analysis import fid as maths
    from pgstudio.core.analysis.inception import features
    z = torch.randn(n, G.latent_size, generator=torch.Generator().manual_seed(seed + 3))
    fakes = render(G, z, level, 1.0).transpose(0, 3, 1, 2)
    mean, _ = maths.kid(features(fakes), heldout_features, seed=seed)
    return mean * 1000


def floor_of(train, heldout, seed: int = 0) -> float:
    """MS-SWD ×1000 (mean over levels) of as many training images as held-out ones, drawn at
    random, against the held-out images: what a generator that drew the training set would read."""
    from pgstudio.core.analysis.metrics import ms_swd
    pick = torch.randperm(train.shape[0], generator=torch.Generator().manual_seed(seed))[:heldout.shape[0]]
    return float(np.mean(ms_swd(torch.as_tensor(train[pick.numpy()]), torch.as_tensor(heldout), seed=seed)))


def main() -> None:
    if sys.argv[1:2] == ["--report"]:
        print(report([Path(p) for p in sys.argv[2:]]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("split", type=Path)
    ap.add_argument("--recipes", nargs="*", default=None, choices=RECIPES,
                    help="the classic family's papers (default: all of them unless --families is given)")
    ap.add_argument("--families", nargs="+", default=[], choices=LINEAGE)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--kimg", type=float, default=10.0)
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--kid-seeds", type=int, nargs="*", default=[])
    ap.add_argument("--fmap", type=int, nargs=2, metavar=("BASE", "MAX"), default=(512, 64),
                    help="every preset's widths (default 512 64: G 64/64/32/16 at 4/8/16/32, the progressive "
                         "laptop preset's scale; the presets' own 2048 256 ran 7-340 img/s on 2 cores)")
    ap.add_argument("--runs", type=Path, default=Path("/tmp/survey_runs"))
    ap.add_argument("--out", type=Path)
    ap.add_argument("--grids", type=Path, default=Path("docs/survey"))
    ap.add_argument("--floor", action="store_true", help="only score the training reals against the held-out "
                    "ones (the floor, seeds 0 1 2) into --out")
    a = ap.parse_args()
    if a.recipes is None:
        a.recipes = [] if a.families else RECIPES
    out = a.out or Path(f"bench/results/survey_{a.split.name}.json")
    train = import_folder(a.split / "train", a.resolution)
    heldout = import_folder(a.split / "heldout", a.resolution).levels[a.resolution]
    classes = class_view(a.split) if set(CONDITIONAL) & set(a.recipes + a.families) else None
    labelled = import_folder(classes, a.resolution) if classes else None
    heldout_features = None
    if a.kid_seeds:
        from pgstudio.core.analysis.inception import features
        heldout_features = features(heldout)
    table = json.loads(out.read_text()) if out.exists() else {"cpu": cpu_name(), "threads": torch.get_num_threads(),
                                                              "rows": []}
    if a.floor:
        reals = train.levels[a.resolution]
        table["floor"] = {"resolution": a.resolution, "ms_swd": [round(floor_of(reals, heldout, s), 3) for s in (0, 1, 2)]}
        print(json.dumps(table["floor"]), flush=True)
        out.write_text(json.dumps(table, indent=1))
        return
    jobs = [(recipe, "classic", recipe) for recipe in a.recipes] + [(arch, arch, "laptop") for arch in a.families]
    for recipe, arch, preset in jobs:
        for seed in a.seeds:
            conditional = recipe in CONDITIONAL and labelled is not None
            if recipe == "cgan" and not conditional:        # BigGAN trains unconditionally then (one class)
                print(f"{recipe}: {a.split} has no classes, skipped", flush=True)
                break
            data = classes if conditional else a.split / "train"
            phases = 2 * (a.resolution.bit_length() - 2) - 1 if family(arch).grows else 1
            cfg = preset_config(preset, arch=arch, data=str(data), resolution=a.resolution, max_kimg=a.kimg,
                                seed=seed, device="cpu", precision="fp32", tick_kimg=1.0, sample_kimg=1000.0,
                                checkpoint_kimg=1000.0, metric_kimg=0.0, classes="on" if conditional else "off",
                                fmap_base=a.fmap[0], fmap_max=a.fmap[1], augment="off",
                                stabilize_kimg=a.kimg / phases, fade_kimg=a.kimg / phases)
            folder = a.runs / f"{a.split.name}-{recipe}-s{seed}"
            if folder.exists():
                import shutil
                shutil.rmtree(folder)
            t0 = time.perf_counter()
            trainer = Trainer.new(folder, cfg, dataset=labelled if conditional else train)
            result = trainer.run()
            seconds = time.perf_counter() - t0
            G, level, n = trainer.G_ema, trainer.G_ema.max_level, heldout.shape[0]
            row = {"split": a.split.name, "recipe": recipe, "arch": arch, "seed": seed, "resolution": a.resolution, "fmap": list(a.fmap),
                   "kimg": round(trainer.images_seen / 1000, 2), "stop": result.reason, "train_s": round(seconds, 1),
                   "img_per_s": round(trainer.images_seen / seconds, 1), "error": result.error}
            if result.reason != "error":
                record = swd_of_generator(G, level, 1.0, heldout, n, seed=seed, with_floor=False)
                row["ms_swd"] = record["mean"]
                if seed in a.kid_seeds:
                    row["kid_x1000"] = round(kid_of(G, level, heldout_features, min(n, 1000), seed), 3)
                if seed == a.seeds[0]:
                    z = torch.randn(64, G.latent_size, generator=torch.Generator().manual_seed(0))
                    grid = make_grid(render(G, z, level, 1.0), cols=8, pad=1, pad_value=255)
                    a.grids.mkdir(parents=True, exist_ok=True)
                    from PIL import Image
                    Image.fromarray(grid.squeeze(-1) if grid.shape[-1] == 1 else grid).save(
                        a.grids / f"{a.split.name}_{recipe}.png")
            trainer.close()
            print(json.dumps(row), flush=True)
            table["rows"] = [r for r in table["rows"] if (r["recipe"], r["seed"]) != (recipe, seed)] + [row]
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(table, indent=1))


def report(paths: list[Path]) -> str:
    """Markdown: per split and preset, MS-SWD per seed, mean ± spread, KID, img/s, train time."""
    lines = ["| data | preset | paper | MS-SWD per seed | mean | KID ×1000 | img/s | train s (mean) |",
             "|---|---|---|---|---|---|---|---|"]
    papers = family("classic").papers
    order = RECIPES + list(LINEAGE)
    for p in paths:
        table = json.loads(p.read_text())
        groups: dict[tuple, list[dict]] = {}
        for r in table["rows"]:
            groups.setdefault((r["split"], r["recipe"]), []).append(r)
        for (split, recipe), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], order.index(kv[0][1]))):
            rs = sorted(rs, key=lambda r: r["seed"])
            scored = [r["ms_swd"] for r in rs if "ms_swd" in r]
            kids = [r["kid_x1000"] for r in rs if "kid_x1000" in r]
            title, citation = ((papers[recipe].title, papers[recipe].citation) if recipe in papers
                               else (family(recipe).title, "laptop preset"))
            per_seed = " / ".join(f"{r['ms_swd']:.1f}" if "ms_swd" in r else "failed" for r in rs)
            mean = f"**{np.mean(scored):.1f}** ± {np.std(scored):.1f}" if scored else "—"
            lines.append(f"| {split} | {title} | {citation} | {per_seed} | {mean} | "
                         f"{' / '.join(f'{k:.1f}' for k in kids) or '—'} | "
                         f"{np.mean([r['img_per_s'] for r in rs]):.0f} | {np.mean([r['train_s'] for r in rs]):.0f} |")
        if table.get("floor"):
            floor = table["floor"]["ms_swd"]
            lines.append(f"| {table['rows'][0]['split'] if table['rows'] else p.stem} | training reals vs held-out "
                         f"(the floor) | | {' / '.join(f'{f:.1f}' for f in floor)} | {np.mean(floor):.1f} | | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
