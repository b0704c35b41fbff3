"""Small-data study: augmentation off / adaptive / fixed on folders of about a thousand images.

For each data set the images are split once (fixed seed) into a training folder and a held-out
folder; every run trains on the training folder only and is scored with MS-SWD against the
held-out images, so a generator that copies its training set scores no better than the
train-vs-held-out floor. Each tick also records D's mean raw score on training reals and on
held-out reals (the overfitting gap: D learns to tell the two apart when it memorises), and p.

    python -m bench.small_data --sets emoji fashion --modes off ada fixed --seeds 0 1 2 \
        --resolution 16 --phase-kimg 15 --max-kimg 120 --out /tmp/small_data.json

Writes one JSON document with every run's curves and final scores, re-read on every start so an
interrupted study continues where it stopped.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from pgstudio.core.analysis.export import render
from pgstudio.core.analysis.metrics import ms_swd
from pgstudio.core.presets import preset_config
from pgstudio.core.data.dataset import load_dataset, load_demo
from pgstudio.core.training.events import TickEvent
from pgstudio.core.training.trainer import Trainer

FASHION = Path("/usr/share/datasets/fashion-mnist")
SPLIT_SEED = 1234
TRAIN_N = 1000


def cpu_name() -> str:
    flags = ""
    try:
        text = Path("/proc/cpuinfo").read_text()
        model = next(l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("model name"))
        line = next(l for l in text.splitlines() if l.startswith("flags"))
        flags = " ".join(f for f in line.split() if f.startswith(("avx512_bf16", "amx", "avx2")))
    except (OSError, StopIteration):
        model = platform.processor()
    return f"{model}, {os.cpu_count()} cores ({flags})"


def _write_folder(folder: Path, images: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, img in enumerate(images):
        Image.fromarray(img.squeeze(-1) if img.shape[-1] == 1 else img).save(folder / f"{i:05d}.png")


def _idx_images(path: Path) -> np.ndarray:
    with gzip.open(path) as f:
        data = f.read()
    n, h, w = (int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, h, w, 1)


def make_sets(root: Path, names: list[str], train_n: int = TRAIN_N) -> dict[str, tuple[Path, Path]]:
    """name → (training folder, held-out folder), written once."""
    out = {}
    for name in names:
        sub = name if train_n == TRAIN_N else f"{name}-{train_n}"
        train, held = root / sub / "train", root / sub / "heldout"
        if not (train.is_dir() and held.is_dir()):
            if name == "emoji":      # the demo set: 1,000 to train, the other 1,003 held out
                tiles = load_demo(32).levels[32].transpose(0, 2, 3, 1)
                perm = np.random.default_rng(SPLIT_SEED).permutation(len(tiles))
                _write_folder(train, tiles[perm[:train_n]])
                _write_folder(held, tiles[perm[TRAIN_N:]])       # the same held-out images at any train_n
            elif name == "fashion":  # 1,000 training images from the train split, 2,000 from t10k held out
                tr = _idx_images(next(FASHION.glob("train-images*")))
                te = _idx_images(next(FASHION.glob("t10k-images*")))
                rng = np.random.default_rng(SPLIT_SEED)
                _write_folder(train, tr[rng.permutation(len(tr))[:train_n]])
                _write_folder(held, te[rng.permutation(len(te))[:2000]])
            else:
                raise SystemExit(f"unknown set {name}")
        out[name] = (train, held)
    return out


def as_tensor(images: np.ndarray) -> torch.Tensor:
    return (torch.from_numpy(images).float() / 127.5 - 1.0)


def score(trainer, heldout, cfg, args):
    """MS-SWD of n EMA samples against the held-out images (mean, per level), the floor (n
    training reals against the same images) per level, and n."""
    held_imgs = heldout.levels[args.resolution]
    n = min(len(held_imgs), len(trainer.dataset), args.n)
    z = torch.randn(n, cfg.latent_size, generator=torch.Generator().manual_seed(99))
    top = int(np.log2(args.resolution))
    fakes = torch.from_numpy(render(trainer.G_ema, z, top, 1.0, batch=256)).permute(0, 3, 1, 2).contiguous()
    reals = torch.from_numpy(held_imgs[:n])
    train_imgs = torch.from_numpy(trainer.dataset.levels[args.resolution][:n])
    swd = ms_swd(reals, fakes, seed=5)
    floor = ms_swd(reals, train_imgs, seed=5)
    return sum(swd) / len(swd), swd, floor, n


def run_one(set_name, train: Path, held: Path, mode: str, seed: int, args) -> dict:
    size = "" if args.train_n == TRAIN_N else f"-{args.train_n}"
    run_dir = Path(args.runs) / f"{set_name}{size}-{mode}{args.tag}-s{seed}"
    if run_dir.exists():
        import shutil
        shutil.rmtree(run_dir)
    cfg = preset_config("laptop", data=str(train), resolution=args.resolution, seed=seed,
                        stabilize_kimg=args.phase_kimg, fade_kimg=args.phase_kimg, max_kimg=args.max_kimg,
                        augment=mode, augment_p=args.fixed_p if mode == "fixed" else 0.0,
                        ada_kimg=args.ada_kimg, ada_target=args.ada_target, ada_signal=args.ada_signal,
                        checkpoint_kimg=1e6,
                        sample_kimg=args.max_kimg / 4,
                        channels="rgb" if set_name == "emoji" else "gray",
                        fmap_base=args.fmap_base, fmap_max=args.fmap_max)
    heldout = load_dataset(str(held), False, args.resolution, "crop", cfg.channels)
    curves = {k: [] for k in ("kimg", "resolution", "p", "rt", "rv", "d_train", "d_heldout", "d_fake", "loss_d", "loss_g")}
    curves["score_kimg"], curves["score"] = [], []
    probe = torch.Generator().manual_seed(7)
    trainer = None
    next_score = [args.score_every]

    def listen(event):
        if not isinstance(event, TickEvent):
            return
        tick = event.tick
        res = tick.resolution
        D, level = trainer.D, int(np.log2(res))
        trained = trainer.training_set          # without r_v's held-out images
        idx_t = torch.randint(len(trained), (256,), generator=probe)
        idx_h = torch.randint(len(heldout), (256,), generator=probe)
        with torch.no_grad():
            d_t = D(as_tensor(trained.levels[res][idx_t.numpy()]), level, tick.alpha).float().mean().item()
            d_h = D(as_tensor(heldout.levels[res][idx_h.numpy()]), level, tick.alpha).float().mean().item()
            z = torch.randn(256, cfg.latent_size, generator=probe)
            d_f = D(trainer.G(z, level, tick.alpha), level, tick.alpha).float().mean().item()
        for k, v in (("kimg", tick.kimg), ("resolution", res), ("p", tick.family_stats.get("augment_p")),
                     ("rt", tick.family_stats.get("augment_rt")), ("rv", tick.family_stats.get("augment_rv")),
                     ("d_train", d_t), ("d_heldout", d_h), ("d_fake", d_f),
                     ("loss_d", tick.loss_d), ("loss_g", tick.loss_g)):
            curves[k].append(None if v is None else round(float(v), 4))
        # MS-SWD against held-out images along the way (at the full resolution only)
        if args.score_every and res == args.resolution and tick.alpha >= 1.0 and tick.kimg >= next_score[0]:
            next_score[0] = (tick.kimg // args.score_every + 1) * args.score_every
            curves["score_kimg"].append(round(tick.kimg, 3))
            curves["score"].append(round(score(trainer, heldout, cfg, args)[0], 2))

    t0 = time.time()
    trainer = Trainer.new(run_dir, cfg, on_event=listen)
    result = trainer.run()
    seconds = time.time() - t0
    mean_swd, swd, floor, n = score(trainer, heldout, cfg, args)
    return {"set": set_name, "mode": mode, "seed": seed, "tag": args.tag, "train_n": args.train_n,
            "ada_kimg": args.ada_kimg, "ada_target": args.ada_target, "ada_signal": args.ada_signal,
            "heldout_for_rv": trainer.cfg.ada_heldout, "fixed_p": args.fixed_p, "reason": result.reason,
            "seconds": round(seconds, 1),
            "kimg": result.kimg, "swd_levels": [round(v, 2) for v in swd], "swd": round(mean_swd, 2),
            "floor": round(sum(floor) / len(floor), 2), "n": n, "curves": curves, "run": str(run_dir)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", nargs="+", default=["emoji", "fashion"])
    ap.add_argument("--modes", nargs="+", default=["off", "ada", "fixed"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--resolution", type=int, default=16)
    ap.add_argument("--phase-kimg", type=float, default=15.0)
    ap.add_argument("--max-kimg", type=float, default=120.0)
    ap.add_argument("--ada-kimg", type=float, default=100.0)
    ap.add_argument("--fixed-p", type=float, default=0.2)
    ap.add_argument("--ada-target", type=float, default=0.6, help="the signal's target (r_t: 0.6 as published)")
    ap.add_argument("--ada-signal", choices=("rt", "rv"), default="rt", help="ADA's overfitting signal")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--score-every", type=float, default=0.0, metavar="KIMG",
                    help="also score MS-SWD against the held-out images every KIMG at the full resolution")
    ap.add_argument("--train-n", type=int, default=TRAIN_N, help="training images per set")
    ap.add_argument("--tag", default="", help="told apart in the results (e.g. an ada speed)")
    ap.add_argument("--fmap-base", type=int, default=256)
    ap.add_argument("--fmap-max", type=int, default=64)
    ap.add_argument("--root", default="/tmp/pgstudio-small-data")
    ap.add_argument("--runs", default="/tmp/pgstudio-small-data/runs")
    ap.add_argument("--out", default="small_data.json")
    args = ap.parse_args(argv)
    sets = make_sets(Path(args.root), args.sets, args.train_n)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = json.loads(out.read_text()) if out.exists() else {"runs": []}
    doc.update({"cpu": cpu_name(), "torch": torch.__version__, "threads": torch.get_num_threads(),
                "settings": {k: v for k, v in vars(args).items() if k not in ("out",)}})
    done = {(r["set"], r["mode"], r["seed"], r.get("tag", ""), r.get("train_n", TRAIN_N)) for r in doc["runs"]}
    for name in args.sets:
        for seed in args.seeds:
            for mode in args.modes:
                if (name, mode, seed, args.tag, args.train_n) in done:
                    continue
                record = run_one(name, *sets[name], mode, seed, args)
                doc["runs"].append(record)
                out.write_text(json.dumps(doc, indent=1))
                print(f"{name} {mode} seed {seed}: MS-SWD {record['swd']} (floor {record['floor']}), "
                      f"p {record['curves']['p'][-1]}, {record['seconds']} s", flush=True)


if __name__ == "__main__":
    main()
