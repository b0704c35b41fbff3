"""FID/KID (and precision/recall) of a checkpoint or export against real images: the one
implementation behind `pgstudio fid` and the Checkpoints page, as checkpoint_swd is for MS-SWD."""
from __future__ import annotations

import os
from typing import Callable

import torch

from . import inception
from .checkpoint_swd import generator_and_reals
from .inception_metrics import inception_record

DEFAULT_SEED = 0
DEFAULT_N = 2048
# measured with bench/inception_speed.py: images per second through the network, per CPU core
# (Intel Xeon with AMX, 2 cores: 9.0 img/s idle, about 5 beside a training) — the form's cost
# estimate scales it by the cores
CPU_IMAGES_PER_S_PER_CORE = 4.5
CUDA_IMAGES_PER_S = 1000.0      # not measured here (no GPU lent): a rough order for the estimate


def images_per_second(device: torch.device | str) -> float:
    """A rough rate of Inception features on ``device``, for cost estimates shown before a run."""
    if torch.device(device).type == "cuda":
        return CUDA_IMAGES_PER_S
    return CPU_IMAGES_PER_S_PER_CORE * max(1, torch.get_num_threads())


def estimate_seconds(n: int, count: int, device: torch.device | str = "cpu", reals_cached: bool = False) -> float:
    """Seconds one evaluation costs: m fakes (and, the first time, every real) through Inception."""
    m = min(n, count // 2)
    return (m + (0 if reals_cached else count)) / images_per_second(device)


def score_checkpoint_fid(source: str | os.PathLike, n: int = DEFAULT_N, seed: int = DEFAULT_SEED,
                         data: str | None = None, demo: bool = False, with_pr: bool = False,
                         device: torch.device | str = "cpu",
                         progress: Callable[[int, int], None] | None = None,
                         class_name: str | None = None, network=None) -> dict:
    """The EMA generator of ``source`` scored like score_checkpoint (same reals, classes, errors),
    with Inception features: the metrics.jsonl "fid" record. FeatureNetworkMissing without the
    optional extra."""
    if network is None:
        inception.load(device)           # fail before the data set is loaded, with the install hint
    loaded, images, labels, extra = generator_and_reals(source, data, demo, class_name)
    generator = loaded.generator.to(device)
    record = inception_record(generator, loaded.level, loaded.alpha, images, n, seed=seed, labels=labels,
                              with_pr=with_pr, device=device, network=network, progress=progress)
    record.update(extra)
    record.update({"kind": "fid", "kimg": round(loaded.kimg, 3), "checkpoint": str(loaded.source), "seed": seed,
                   "resize": inception.RESIZE})
    return record
