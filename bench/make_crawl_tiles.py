"""A folder of a few thousand real RGB 32×32 images in class sub-folders, for trying the studio as a
user would: Dungeon Crawl's tile sheets (Debian's crawl-tiles-data) cut into their 32×32 tiles,
blank and one-colour tiles dropped, transparency flattened on black; one class per sheet.

    apt-get install crawl-tiles-data
    python bench/make_crawl_tiles.py OUT [--sheets floor wall feat main player]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

SHEETS = Path("/usr/share/crawl/dat/tiles")


def tiles(sheet: Path, size: int = 32):
    img = Image.open(sheet).convert("RGBA")
    arr = np.asarray(img)
    h, w = arr.shape[0] // size * size, arr.shape[1] // size * size
    for y in range(0, h, size):
        for x in range(0, w, size):
            tile = arr[y:y + size, x:x + size].astype(np.float32)
            alpha = tile[..., 3:] / 255
            if alpha.mean() < 0.15:
                continue                                  # (nearly) empty cell of the sheet
            rgb = (tile[..., :3] * alpha).astype(np.uint8)
            if rgb.reshape(-1, 3).std(0).max() < 4:
                continue                                  # one colour: no picture
            yield x // size, y // size, rgb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--sheets", nargs="+", default=["floor", "wall", "main", "player"])
    args = ap.parse_args()
    total = 0
    for name in args.sheets:
        folder = Path(args.out) / name
        folder.mkdir(parents=True, exist_ok=True)
        n = 0
        for x, y, rgb in tiles(SHEETS / f"{name}.png"):
            Image.fromarray(rgb).save(folder / f"{name}-{y:03d}-{x:03d}.png")
            n += 1
        print(f"{name}: {n} tiles")
        total += n
    print(f"{total} images in {args.out}")


if __name__ == "__main__":
    main()
