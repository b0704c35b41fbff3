"""Inception features per second on a device (the form's FID cost estimate comes from this), and on
CUDA how far bf16 autocast moves the features and the FID from float32 (pgstudio stays in float32:
bf16 would be offered only within a stated tolerance, which has not been measured yet).

    python -m bench.inception_speed [--device cpu|cuda] [--images 50] > bench/results/inception_speed.json
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from pgstudio.core.analysis import fid, inception

from .small_data import cpu_name


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--images", type=int, default=50)
    args = ap.parse_args()
    device = torch.device(args.device)
    net = inception.load(device)
    images = np.random.default_rng(0).integers(0, 256, (args.images, 3, 32, 32), dtype=np.uint8)
    inception.features(images[:4], net, device)                 # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    feats = inception.features(images, net, device)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    out = {"device": torch.cuda.get_device_name() if device.type == "cuda" else cpu_name(),
           "threads": torch.get_num_threads(), "images": args.images, "seconds": round(seconds, 2),
           "images_per_s": round(args.images / seconds, 2)}
    if device.type == "cuda":
        with torch.autocast("cuda", dtype=torch.bfloat16):
            low = inception.features(images, net, device)
        other = inception.features(np.random.default_rng(1).integers(0, 256, images.shape, dtype=np.uint8), net, device)
        out["bf16_max_abs_feature_diff"] = float(np.abs(low - feats).max())
        out["bf16_fid_shift"] = round(abs(fid.fid(low, other) - fid.fid(feats, other)), 4)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
