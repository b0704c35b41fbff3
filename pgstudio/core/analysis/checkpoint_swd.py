"""MS-SWD of a checkpoint (or an export) against real images: the one implementation behind
`pgstudio swd` and the Checkpoints page, so both give the same number for the same n and seed."""
from __future__ import annotations

import os
from typing import Callable

import numpy as np

from ..config import TrainConfig
from ..data.dataset import load_dataset
from ..models import load_generator_and_state
from ..training.class_choice import class_index, match_classes
from .metrics import generator_swd_steps, swd_of_generator

DEFAULT_SEED = 0
RECIPE = "PGGAN MS-SWD: Laplacian levels to 16x16, 128 7x7 patches/image, 4x128 directions, x1000"


def generator_and_reals(source, data: str | None = None, demo: bool = False, class_name: str | None = None):
    """(loaded generator, uint8 NCHW reals at its resolution, their labels or None, extra record
    fields) for scoring ``source``: the reals its run trained on unless ``data``/``demo`` is given;
    with ``class_name`` one class's reals. ValueError when that cannot be done."""
    loaded, state = load_generator_and_state(source)
    cfg = TrainConfig.from_json(state["config"]) if state is not None else None
    if data is None and not demo:
        if cfg is None:
            raise ValueError(f"{source}: an export names no training data; give a folder of real images")
        data, demo = cfg.data, cfg.demo
    resolution = cfg.resolution if cfg is not None else loaded.resolution
    dataset = load_dataset(data, demo, resolution, cfg.mode if cfg else "crop", cfg.channels if cfg else "auto")
    images, labels, extra = dataset.levels[loaded.resolution], None, {}
    names = list(getattr(loaded.generator, "class_names", None) or [])
    if names:
        dataset = match_classes(dataset, names, str(data or "the demo set"))
        labels = dataset.labels
        if class_name is not None:
            index = class_index(names, class_name)
            images, labels = images[labels == index], labels[labels == index]
            extra = {"class": names[index]}
    elif class_name is not None:
        raise ValueError(f"{source}: the generator is unconditional, it has no classes to score one of")
    return loaded, images, labels, extra


def floor_key(images, n: int, seed: int, extra: dict) -> tuple:
    """What a real-vs-real floor depends on: the reals (every byte: one changed image changes the
    floor), the set size and the seed of the split, the class — not the generator."""
    import hashlib
    digest = hashlib.sha1(np.ascontiguousarray(images).tobytes()).hexdigest()
    return (images.shape, digest, n, seed, extra.get("class"))


def score_checkpoint(source: str | os.PathLike, n: int = 2048, seed: int = DEFAULT_SEED,
                     data: str | None = None, demo: bool = False,
                     progress: Callable[[int, int], None] | None = None, class_name: str | None = None,
                     floors: dict | None = None) -> dict:
    """The EMA generator of ``source`` (a checkpoint, a run folder's newest, an export) scored on
    the reals its run trained on, or on ``data``/``demo`` when given (an export names no data).

    A conditional generator is scored on all its classes (each fake takes the class of a real it
    is compared with) or, with ``class_name`` (a name or an index), on one class's reals and fakes.
    ``progress(done, total)`` is called per step of the work (rendering batches, descriptor chunks,
    comparisons); ``floors`` (a dict kept by the caller) holds the real-vs-real floors already
    computed, which depend on the reals, n and seed but not on the checkpoint. Returns the metrics.jsonl "swd" record with
    kimg, checkpoint, n and seed (and "class"); ValueError when the data cannot give two disjoint sets.
    """
    loaded, images, labels, extra = generator_and_reals(source, data, demo, class_name)
    key = floor_key(images, n, seed, extra)
    known = floors.get(key) if floors is not None else None
    total = generator_swd_steps(n, images.shape[0], images.shape[-1], floor_known=known is not None)
    done = [0]

    def step():
        done[0] += 1
        if progress is not None:
            progress(min(done[0], total), total)
    record = swd_of_generator(loaded.generator, loaded.level, loaded.alpha, images, n, seed=seed, progress=step,
                              labels=labels, known_floor=known)
    if floors is not None and record.get("floor") is not None:
        floors[key] = record["floor"]     # the next checkpoint of the same reals skips it
    record.update(extra)
    record.update({"kind": "swd", "kimg": round(loaded.kimg, 3), "checkpoint": str(loaded.source), "seed": seed,
                   "recipe": RECIPE})
    return record
