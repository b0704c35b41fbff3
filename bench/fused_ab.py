"""The fused resampling convs against the two-step form, in one process; prints JSON.

    python bench/fused_ab.py [--device cpu|cuda] [--resolution 32] [--preset laptop] [--loss L]
                             [--batch N] [--rounds 6] [--steps 16]

Both forms compute the same networks (core/layers.py: ``FUSED_MIN_PIXELS`` picks the form per
call), so one Trainer runs alternating rounds of each in the stabilize phase at the given
resolution. Alternating inside one process matters on a shared VM whose speed drifts by ±25 %:
separate runs of the two forms cannot resolve a 20 % difference there.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.ab import alternating_rounds, parser, ratio_summary, stabilize_trainer  # noqa: E402
from pgstudio.core.networks import layers  # noqa: E402

FORMS = {"fused": layers.FUSED_MIN_PIXELS, "two_step": 2**62}


def main() -> None:
    a = parser(__doc__).parse_args()
    trainer, pt = stabilize_trainer(a)
    cfg = trainer.cfg
    switches = {name: (lambda t=threshold: setattr(layers, "FUSED_MIN_PIXELS", t)) for name, threshold in FORMS.items()}
    img_per_s = alternating_rounds(trainer, pt, switches, a.rounds, a.steps)
    print(json.dumps({
        "device": trainer.device.type,
        "device_name": torch.cuda.get_device_name(trainer.device) if trainer.device.type == "cuda" else "cpu",
        "threads": torch.get_num_threads(), "preset": a.preset, "loss": cfg.loss, "resolution": a.resolution,
        "batch": pt.batch, "rounds": a.rounds, "steps_per_round": a.steps,
        **ratio_summary(img_per_s, "fused", "two_step")}, indent=2))


if __name__ == "__main__":
    main()
