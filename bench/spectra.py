"""Power spectra of a generator's samples against real images it never trained on.

    python -m bench.spectra RUN_OR_CKPT [...] --heldout DIR [--train DIR] [--n 2000]
                            [--out bench/results/spectra.json] [--figure docs/spectra.png]

For each checkpoint (a run folder means its newest): the fakes' mean power spectrum (EMA
generator, fresh per-sample noise where it has noise inputs) over the held-out reals', on the two
frequency axes above 3/4 of Nyquist, off the axes at the same radii, and per radius
(pgstudio/core/analysis/spectrum.py). With ``--train``, the training images against the held-out
ones too: what two real sets differ by, the yardstick for the fakes' figures. Windowed (Hann) and
unwindowed figures both: the difference between them is what the images' borders contribute.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from bench.small_data import cpu_name
from pgstudio.core.analysis.export import render
from pgstudio.core.analysis.spectrum import compare, power_spectrum
from pgstudio.core.config import TrainConfig
from pgstudio.core.data.dataset import load_dataset
from pgstudio.core.models import load_generator_and_state


def reals(folder: str, resolution: int, mode: str = "crop", channels: str = "auto") -> np.ndarray:
    return load_dataset(folder, False, resolution, mode, channels).levels[resolution]


def fakes(source: str, n: int, seed: int) -> tuple[np.ndarray, dict]:
    loaded, state = load_generator_and_state(source)
    cfg = TrainConfig.from_json(state["config"]) if state is not None else None
    z = torch.randn(n, loaded.generator.latent_size, generator=torch.Generator().manual_seed(seed))
    images = render(loaded.generator, z, loaded.level, loaded.alpha, noise_seed=seed).transpose(0, 3, 1, 2)
    about = {"checkpoint": str(source), "resolution": loaded.resolution,
             "arch": cfg.arch if cfg else None, "kimg": (state or {}).get("images_seen", 0) / 1000,
             "mode": cfg.mode if cfg else "crop", "channels": cfg.channels if cfg else "auto"}
    return images, about


def both_windows(a: np.ndarray, b: np.ndarray) -> dict:
    return {"hann": compare(power_spectrum(a), power_spectrum(b)).as_dict(),
            "unwindowed": compare(power_spectrum(a, window=False), power_spectrum(b, window=False)).as_dict()}


def figure(rows: list[tuple[str, np.ndarray]], path: Path) -> None:
    """Log power spectra side by side, each scaled to the held-out reals' range (PIL only)."""
    from PIL import Image, ImageDraw
    ref = np.log10(rows[0][1] + 1e-12)
    lo, hi = np.percentile(ref, 1), ref.max()
    tiles = []
    for name, spectrum in rows:
        s = np.clip((np.log10(spectrum + 1e-12) - lo) / (hi - lo), 0, 1)
        tile = Image.fromarray((s * 255).astype(np.uint8)).resize((192, 192), Image.NEAREST).convert("RGB")
        canvas = Image.new("RGB", (192, 210), "white")
        canvas.paste(tile, (0, 18))
        ImageDraw.Draw(canvas).text((4, 3), name[:30], fill="black")
        tiles.append(canvas)
    out = Image.new("RGB", (200 * len(tiles), 210), "white")
    for i, tile in enumerate(tiles):
        out.paste(tile, (200 * i, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    out.save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sources", nargs="+", help="run folders or checkpoints")
    ap.add_argument("--heldout", required=True, help="real images not used for training")
    ap.add_argument("--train", help="the training images (for a real-vs-real yardstick)")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--labels", nargs="*", help="a name per source for the table and figure")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--figure", type=Path)
    a = ap.parse_args()
    torch.set_grad_enabled(False)
    results, rows, held_cache = [], [], {}
    for i, source in enumerate(a.sources):
        images, about = fakes(source, a.n, a.seed)
        key = (about["resolution"], about["mode"], about["channels"])
        if key not in held_cache:
            held_cache[key] = reals(a.heldout, *key)
            if a.train:
                train = reals(a.train, *key)      # a random n of them (a folder's order groups its classes)
                train = train[np.random.default_rng(a.seed).permutation(len(train))[:a.n]]
                results.append({"label": "training reals", "resolution": key[0],
                                **both_windows(train, held_cache[key])})
                rows.append(("held-out reals", power_spectrum(held_cache[key])))
                rows.append(("training reals", power_spectrum(train)))
        label = a.labels[i] if a.labels and i < len(a.labels) else Path(source).name
        results.append({"label": label, **about, **both_windows(images, held_cache[key])})
        rows.append((label, power_spectrum(images)))
    for r in results:
        h, u = r["hann"], r["unwindowed"]
        print(f"{r['label'][:40]:40s} hann: fy-axis {h['vertical_frequency_axis']:.2f} fx-axis "
              f"{h['horizontal_frequency_axis']:.2f} off {h['off_axis']:.2f} | unwindowed: fy-axis "
              f"{u['vertical_frequency_axis']:.2f} fx-axis {u['horizontal_frequency_axis']:.2f} off {u['off_axis']:.2f}")
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps({"machine": cpu_name(), "n": a.n,
                                     "heldout": a.heldout, "train": a.train, "results": results}, indent=1))
    if a.figure and rows:
        figure(rows, a.figure)


if __name__ == "__main__":
    main()
