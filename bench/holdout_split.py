"""Split a folder of images (or the built-in demo set) into a training folder and a held-out one.

    python -m bench.holdout_split (SRC | --demo) OUT [--heldout 0.2] [--seed 0]

Writes OUT/train and OUT/heldout as flat folders of PNGs (class subfolders are flattened into the
file names, so training on OUT/train is unconditional). The held-out share is drawn at random
with the seed: a folder's order groups its classes, and every fifth file in that order is a
sample of a different mix than a random one. Quality is then scored against OUT/heldout, images
the generator never saw (bench/quality_table.py, bench/spectra.py).
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from pgstudio.core.data.dataset import load_demo


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", nargs="?", help="a folder of images (searched recursively)")
    ap.add_argument("out", type=Path)
    ap.add_argument("--demo", action="store_true", help="the built-in emoji set instead of a folder")
    ap.add_argument("--heldout", type=float, default=0.2, help="share held out (default 0.2)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.demo == bool(a.src):
        ap.error("give a folder or --demo")
    if a.demo:
        tiles = load_demo(32).levels[32].transpose(0, 2, 3, 1)
        items = [(f"emoji_{i:04d}.png", tile) for i, tile in enumerate(tiles)]
    else:
        src = Path(a.src)
        paths = sorted(p for p in src.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".webp"))
        items = [("_".join(p.relative_to(src).parts), p) for p in paths]
    held = set(np.random.default_rng(a.seed).permutation(len(items))[:round(len(items) * a.heldout)].tolist())
    for part in ("train", "heldout"):
        shutil.rmtree(a.out / part, ignore_errors=True)
        (a.out / part).mkdir(parents=True)
    for i, (name, item) in enumerate(items):
        target = a.out / ("heldout" if i in held else "train") / name
        if isinstance(item, Path):
            shutil.copyfile(item, target)
        else:
            Image.fromarray(item).save(target)
    print(f"{len(items) - len(held)} training and {len(held)} held-out images under {a.out}")


if __name__ == "__main__":
    main()
