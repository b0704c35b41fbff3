"""What scoring one checkpoint with MS-SWD costs: the Checkpoints page's path (load the generator
and the run's reals, render, two comparisons) against the trainer's own first evaluation at a
resolution (render and two comparisons on reals already in memory), at the same n; wall seconds,
the process's peak and final RSS, and how many progress steps came and how evenly.

    python bench/checkpoint_swd_cost.py CKPT [--n 2048] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import platform
import threading
import time

import psutil
import torch


class PeakRss:
    """Samples the process's resident memory every 20 ms in a thread."""

    def __init__(self):
        self.proc = psutil.Process()
        self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--json")
    args = ap.parse_args()
    from pgstudio.core.analysis.checkpoint_swd import generator_and_reals, score_checkpoint
    from pgstudio.core.analysis.metrics import swd_of_generator

    mb = 2 ** 20
    rss0 = psutil.Process().memory_info().rss
    steps = []
    with PeakRss() as peak:
        t0 = time.perf_counter()
        record = score_checkpoint(args.checkpoint, args.n, progress=lambda d, t: steps.append((time.perf_counter() - t0, d, t)))
        page_s = time.perf_counter() - t0
    from pgstudio.core.memory import release_freed_memory
    rss_after_raw = psutil.Process().memory_info().rss
    release_freed_memory()                       # as the page does when a score ends
    rss_after = psutil.Process().memory_info().rss
    floors = {}
    score_checkpoint(args.checkpoint, args.n, floors=floors)        # the page's first: computes the floor
    t0 = time.perf_counter()
    score_checkpoint(args.checkpoint, args.n, floors=floors)        # every later one on the same reals
    page_floor_known_s = time.perf_counter() - t0
    loaded, images, labels, _ = generator_and_reals(args.checkpoint)
    with PeakRss() as peak_trainer:
        t0 = time.perf_counter()
        swd_of_generator(loaded.generator, loaded.level, loaded.alpha, images, args.n, seed=7, labels=labels)
        trainer_s = time.perf_counter() - t0
    t0 = time.perf_counter()                     # the trainer's later evaluations: floor kept per resolution
    swd_of_generator(loaded.generator, loaded.level, loaded.alpha, images, args.n, seed=7, labels=labels,
                     known_floor=1.0)
    trainer_later_s = time.perf_counter() - t0
    gaps = [b[0] - a[0] for a, b in zip([(0.0,)] + steps, steps)]
    out = {"machine": f"{platform.processor() or platform.machine()}, {psutil.cpu_count()} threads, "
                      f"torch {torch.__version__} ({torch.get_num_threads()} threads)",
           "n": record["n"], "resolution": record["resolution"],
           "page_seconds": round(page_s, 2), "trainer_first_eval_seconds": round(trainer_s, 2),
           "page_floor_known_seconds": round(page_floor_known_s, 2),
           "trainer_later_eval_seconds": round(trainer_later_s, 2),
           "rss_after_before_trim_mb": round(rss_after_raw / mb),
           "rss_before_mb": round(rss0 / mb), "rss_peak_mb": round(peak.peak / mb),
           "rss_after_mb": round(rss_after / mb), "trainer_peak_mb": round(peak_trainer.peak / mb),
           "progress_steps": len(steps), "longest_gap_seconds": round(max(gaps + [page_s if not steps else
                                                                                  page_s - steps[-1][0]]), 2)}
    print(json.dumps(out, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
