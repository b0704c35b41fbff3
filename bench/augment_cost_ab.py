"""What augmenting every image D sees costs per training step, in one process; prints JSON.

    python bench/augment_cost_ab.py [--p 0.5] [--resolution 32] [--preset laptop] [--precision P]
                                    [--rounds 6] [--steps 16]

One Trainer runs alternating rounds with augmentation at a fixed p (three draws and three
augmented batches a step: reals, fakes for D, fakes for G; R1's pass reuses the reals' draws),
with adaptive augmentation by r_v held at the same p (the above, plus D scoring an augmented
held-out batch every fourth step), and with it off, in the stabilize phase at the given
resolution (bench/ab.py). p = 0.5 fires
each transform on half the samples; the resampling and the colour matrix run for the whole
batch whenever p > 0, so the cost barely depends on p.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.ab import alternating_rounds, parser, ratio_summary, stabilize_trainer  # noqa: E402
from pgstudio.core.training import heldout  # noqa: E402
from pgstudio.core.training.augment import AugmentStrength  # noqa: E402
from pgstudio.core.training.sampler import RealSampler  # noqa: E402


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--p", type=float, default=0.5)
    a = ap.parse_args()
    trainer, pt = stabilize_trainer(a)
    recipe = trainer.recipe
    strength = AugmentStrength("fixed", a.p, 0.6, 100.0, trainer.device)
    # r_v's cost at the same p: an ADA speed so slow that p stays where it starts
    by_rv = AugmentStrength("ada", a.p, 0.3, 1e12, trainer.device, signal="rv")
    _, held = heldout.split(trainer.dataset, heldout.heldout_count(len(trainer.dataset)), seed=0)
    held_sampler = RealSampler(held, trainer.device, trainer.dist, trainer.rng, False)
    variants = {"augmented": lambda: setattr(recipe, "strength", strength),
                "adaptive_rv": lambda: (setattr(recipe, "strength", by_rv), setattr(recipe, "heldout", held_sampler)),
                "plain": lambda: setattr(recipe, "strength", None)}
    img_per_s = alternating_rounds(trainer, pt, variants, a.rounds, a.steps)
    trainer.close()
    print(json.dumps({
        "device": trainer.device.type, "threads": torch.get_num_threads(), "preset": a.preset,
        "loss": trainer.cfg.loss, "precision": trainer.precision, "resolution": a.resolution, "batch": pt.batch,
        "p": a.p, "rounds": a.rounds, "steps_per_round": a.steps,
        **ratio_summary(img_per_s, "augmented", "plain"),
        "adaptive_rv": ratio_summary(img_per_s, "adaptive_rv", "plain")}, indent=1))


if __name__ == "__main__":
    main()
