"""FID/KID (and precision/recall) of a generator against real images: the record behind
`pgstudio fid`, the Checkpoints page's column and the optional metric during training.

Like MS-SWD, every figure has its floor: the reals are split by a seeded permutation into two
disjoint sets A and B of m = min(n, N/2) images; the generator's m fakes are scored against A, and
B against A gives the real-vs-real floor at the same N (FID depends on N, so a floor at another N
would mislead). The reals' features are cached per image set (data_cache/features), so only the
fakes cost Inception time after the first evaluation.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..data.dataset import default_cache_dir
from . import fid as maths
from . import inception

MIN_IMAGES = 8                 # per set; KID and precision/recall (k = 3) need a few at least
FID_RELIABLE = inception.FEATURES   # below this many images per set the covariances are singular


def features_cache_key(images: np.ndarray) -> str:
    h = hashlib.sha256(f"{inception.SHA1}|{inception.RESIZE}|{images.shape}|{images.dtype}".encode())
    h.update(np.ascontiguousarray(images).tobytes())
    return h.hexdigest()[:32]


def real_features(images: np.ndarray, device: torch.device | str = "cpu", network=None,
                  progress: Callable[[int, int], None] | None = None,
                  cache_dir: Path | None = None) -> np.ndarray:
    """Features of a set of real images, from the cache when this exact set was seen before.

    A stand-in ``network`` (tests) is never cached. A full or read-only disk only costs the cache.
    """
    if network is not None:
        return inception.features(images, network, device, progress=progress)
    folder = Path(cache_dir) if cache_dir else default_cache_dir() / "features"
    path = folder / f"{features_cache_key(images)}.npy"
    try:
        cached = np.load(path)
        if cached.shape == (images.shape[0], inception.FEATURES):
            if progress is not None:
                progress(images.shape[0], images.shape[0])
            return cached
    except (OSError, ValueError):
        pass
    result = inception.features(images, None, device, progress=progress)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            np.save(f, result)
        os.replace(tmp, path)
    except OSError:
        pass
    return result


def scores(reals: np.ndarray, fakes: np.ndarray, floor: np.ndarray | None, with_pr: bool, seed: int = 0) -> dict:
    """FID, KID (± std over subsets) and optionally precision/recall of fakes and of the floor set
    against ``reals`` (features)."""
    out: dict = {}
    for prefix, other in (("", fakes), ("floor_", floor)):
        if other is None:
            continue
        out[f"{prefix}fid"] = round(maths.fid(other, reals), 4)
        mean, std = maths.kid(other, reals, seed=seed)
        out[f"{prefix}kid"], out[f"{prefix}kid_std"] = round(mean, 6), round(std, 6)
        if with_pr:
            precision, recall = maths.precision_recall(reals, other)
            out[f"{prefix}precision"], out[f"{prefix}recall"] = round(precision, 4), round(recall, 4)
    return out


def split(count: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the two disjoint real sets A and B (m = min(n, count // 2) each)."""
    m = min(n, count // 2)
    if m < MIN_IMAGES:
        raise ValueError(f"the data set is too small for FID/KID ({count} images; it needs "
                         f"{2 * MIN_IMAGES} for a set to score against and a disjoint floor set)")
    perm = np.random.default_rng(seed).permutation(count)
    return perm[:m], perm[m:2 * m]


@torch.no_grad()
def inception_record(generator, level: int, alpha: float, images: np.ndarray, n: int, seed: int = 0,
                     labels=None, with_pr: bool = False, device: torch.device | str = "cpu",
                     network=None, progress: Callable[[int, int], None] | None = None,
                     reals_cache: dict | None = None, noise: str = "random") -> dict:
    """The metrics.jsonl "fid" record fields of ``generator`` against uint8 NCHW ``images``
    (``noise`` as for MS-SWD: per-sample seeded noise for a generator with noise inputs, or "const").

    A conditional generator's fakes take the classes of the reals of set A. ``progress(done, total)``
    counts images through Inception. ``reals_cache`` (a dict the caller keeps) holds the reals'
    features in memory between calls (the trainer's ticks).
    """
    from .export import render
    a, b = split(images.shape[0], n, seed)
    m = len(a)
    # the images' own hash keys the caller's cache (never stale); without one, real_features hashes
    key = features_cache_key(images) if reals_cache is not None else None
    need_reals = reals_cache is None or key not in reals_cache
    total = m + (images.shape[0] if need_reals else 0)

    def counted(base: int):
        def report(k: int, _total: int) -> None:
            if progress is not None:
                progress(base + k, total)
        return report
    if need_reals:
        feats = real_features(images, device, network, counted(0))
        if reals_cache is not None:        # one resolution at a time: the last one's are dropped
            reals_cache.clear()
            reals_cache[key] = feats
    else:
        feats = reals_cache[key]
    z = torch.randn(m, generator.latent_size, generator=torch.Generator().manual_seed(seed))
    fake_labels = (torch.from_numpy(np.asarray(labels)[a]) if labels is not None and getattr(generator, "classes", 0)
                   else None)
    fakes = torch.from_numpy(render(generator, z, level, alpha, batch=64, labels=fake_labels,
                                    noise_seed=seed if noise == "random" else None)).permute(0, 3, 1, 2)
    fake_feats = inception.features(fakes, network, device, progress=counted(total - m))
    record = {"resolution": int(images.shape[-1]), "n": m, "n_floor": len(b),
              "features": inception.NAME if network is None else "stand-in network (tests)"}
    if with_pr:
        record["pr_features"] = "Inception pool3 (the paper uses VGG-16)"
    record.update(scores(feats[a], fake_feats, feats[b], with_pr, seed))
    if m < FID_RELIABLE:
        record["note"] = (f"{m} images per set, fewer than the {FID_RELIABLE} features: FID's covariances are "
                          "singular and FID is biased upward; compare KID")
    return record
