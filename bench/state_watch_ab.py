"""What the per-step watch of weights and Adam moments costs, in one process; prints JSON.

    python bench/state_watch_ab.py [--device cpu|cuda] [--resolution 32] [--preset laptop]
                                   [--loss L] [--batch N] [--precision P] [--rounds 6] [--steps 16]

Each step, the trainer checks on the device that G's and D's weights and both optimizers'
moments are finite (one fused max-abs norm, no host sync; health.FiniteWatch). One
Trainer runs alternating rounds with the check as shipped and with it replaced by a constant,
in the stabilize phase at the given resolution; alternating inside one process, as in
fused_ab.py, because this VM's speed drifts by tens of per cent between separate runs.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.ab import alternating_rounds, parser, ratio_summary, stabilize_trainer  # noqa: E402
from pgstudio.core.training.health import FiniteWatch  # noqa: E402


def main() -> None:
    a = parser(__doc__).parse_args()
    trainer, pt = stabilize_trainer(a)
    cfg = trainer.cfg
    shipped = FiniteWatch.finite
    always = torch.ones((), dtype=torch.bool, device=trainer.device)
    variants = {"watched": lambda: setattr(FiniteWatch, "finite", shipped),
                "unwatched": lambda: setattr(FiniteWatch, "finite", lambda self: [always, always])}
    img_per_s = alternating_rounds(trainer, pt, variants, a.rounds, a.steps)
    FiniteWatch.finite = shipped
    trainer.close()
    print(json.dumps({
        "device": trainer.device.type,
        "device_name": torch.cuda.get_device_name(trainer.device) if trainer.device.type == "cuda" else "cpu",
        "threads": torch.get_num_threads(), "preset": a.preset, "loss": cfg.loss, "precision": trainer.precision,
        "resolution": a.resolution, "batch": pt.batch, "rounds": a.rounds, "steps_per_round": a.steps,
        **ratio_summary(img_per_s, "watched", "unwatched")}, indent=2))


if __name__ == "__main__":
    main()
