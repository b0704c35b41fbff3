"""The held-out split that ADA's r_v signal scores D on (augment.py).

r_v compares D's scores on images it trains on with its scores on images of the same folder it
never sees: a few images are kept out of training for that. Which ones is a pure function of the
folder's size, the run's seed and the count recorded in config.json (``ada_heldout``), so a resumed
run, every data-parallel rank and a later look at the run all hold out the same images.
"""
from __future__ import annotations

import numpy as np

from ..data.dataset import ImageDataset

HELDOUT_SHARE = 0.05        # of the folder
HELDOUT_MIN, HELDOUT_MAX = 8, 256
SPLIT_SEED_OFFSET = 3       # the split's seed is the run's seed plus this (the grid latents use + 1)


def heldout_count(images: int) -> int:
    """How many of a folder's images r_v holds out: 5 %, at least 8 (D's mean over fewer is mostly
    noise), at most 256 (enough for a mean; the rest train), and never more than a quarter."""
    if images < 4 * HELDOUT_MIN:
        return max(1, images // 4) if images >= 4 else 0
    return int(min(HELDOUT_MAX, max(HELDOUT_MIN, round(images * HELDOUT_SHARE))))


def settle_heldout(cfg, images: int):
    """(cfg with ``ada_heldout`` set for a folder of ``images``, the line that says so); a folder
    too small to spare any image is refused."""
    count = heldout_count(images)
    if count == 0:
        raise ValueError(f"adaptive augmentation by r_v holds images out of training, and {images} "
                         "images are too few: use --ada-signal rt or a fixed p")
    return cfg.replace(ada_heldout=count, ada_heldout_of=images), (
        f"r_v: {count:,} of the {images:,} images are held out of training; D's scores on them tell when it "
        "memorises the rest")


def changed_folder_note(cfg, images: int) -> str | None:
    """On resume: a line saying that the folder no longer has the images the split was made from
    (the split is drawn anew from today's folder, so some held-out images may have been trained on)."""
    if not cfg.ada_heldout or not cfg.ada_heldout_of or images == cfg.ada_heldout_of:
        return None
    return (f"the folder has {images:,} images now, {cfg.ada_heldout_of:,} when the run started: r_v's "
            f"{cfg.ada_heldout:,} held-out images are drawn anew from it, and some of them may have been "
            "trained on, which lowers r_v for a while")


def heldout_indices(labels: np.ndarray, count: int, seed: int) -> np.ndarray:
    """The indices (sorted) of the ``count`` held-out images. A conditional folder's classes each
    keep at least one training image: an image whose class would lose its last one is skipped."""
    order = np.random.default_rng(seed + SPLIT_SEED_OFFSET).permutation(len(labels))
    left = {int(c): int(n) for c, n in zip(*np.unique(labels, return_counts=True))}
    chosen = []
    for i in order:
        if len(chosen) == count:
            break
        c = int(labels[i])
        if c >= 0 and left[c] <= 1:
            continue
        left[c] -= 1
        chosen.append(int(i))
    return np.sort(np.asarray(chosen, dtype=np.int64))


def split(dataset: ImageDataset, count: int, seed: int) -> tuple[ImageDataset, ImageDataset | None]:
    """(training images, held-out images); the whole set and None when ``count`` is 0."""
    if count <= 0:
        return dataset, None
    if count >= len(dataset):
        raise ValueError(f"cannot hold out {count} of {len(dataset)} images")
    held = heldout_indices(dataset.labels, count, seed)
    keep = np.setdiff1d(np.arange(len(dataset)), held)
    return subset(dataset, keep), subset(dataset, held)


def subset(dataset: ImageDataset, rows: np.ndarray) -> ImageDataset:
    return ImageDataset({res: np.ascontiguousarray(arr[rows]) for res, arr in dataset.levels.items()},
                        dataset.labels[rows], dataset.class_names, dataset.report)
