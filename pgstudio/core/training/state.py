"""A trainer's full state as a checkpoint dict, and back: both networks, the EMA generator, both
optimizers, every RNG, the counters, the micro-batch splits and the family recipe's own state.

The keys are the checkpoint format (storage/checkpoint.py's RESUME_KEYS and the rest); they are
added to, never renamed, so checkpoints from every pgstudio version keep resuming.
"""
from __future__ import annotations

import torch

from ..storage.checkpoint import FORMAT, VERSION, capture_rng_state, describe_tensors, non_finite_tensors, restore_rng_state
from .health import NonFiniteTraining


def capture(trainer) -> dict:
    t, nets = trainer, trainer.nets
    state = {
        "format": FORMAT, "version": VERSION,
        "config": t.cfg.to_json(), "architecture": t.architecture,
        "generator": nets.G.state_dict(), "discriminator": nets.D.state_dict(),
        "generator_ema": nets.G_ema.state_dict(),
        "opt_g": nets.opt_g.state_dict(), "opt_d": nets.opt_d.state_dict(),
        "images_seen": t.images_seen, "step": t.step, "d_steps": t.d_steps,
        "level": t.level, "phase_index": t.phase_index, "wall_s": t.clock.wall_s,
        "rng": {**capture_rng_state(), "train": t.rng.get_state()},
        "fixed_latents": t.fixed_latents, "stats": dict(t.last_stats),
        "accum": {str(k): v for k, v in t.accum.items()},
        # every checkpoint has carried the path-length mean since StyleGAN2 arrived (0 for a
        # family without one): its recipe's state replaces it
        "pl_mean": torch.zeros(()),
    }
    state.update(t.recipe.state_dict())
    return state


def capture_finite(trainer) -> dict:
    """The state, refused when anything in it (networks, EMA, both optimizers' moments) is not
    finite: a checkpoint that could only resume into the same blow-up is never written."""
    state = capture(trainer)
    bad = non_finite_tensors(state)
    if bad:
        raise NonFiniteTraining(f"non-finite values in {describe_tensors(bad)} at step {trainer.step}: "
                                f"checkpoint not written{trainer.advice()}")
    return state


def restore(trainer, state: dict) -> None:
    t, nets = trainer, trainer.nets
    nets.G.load_state_dict(state["generator"])
    nets.D.load_state_dict(state["discriminator"])
    nets.G_ema.load_state_dict(state["generator_ema"])
    nets.opt_g.load_state_dict(state["opt_g"])
    nets.opt_d.load_state_dict(state["opt_d"])
    t.images_seen = int(state["images_seen"])
    t.step = int(state["step"])
    t.d_steps = int(state["d_steps"])
    t.level = int(state["level"])
    t.phase_index = int(state["phase_index"])
    t.clock.wall_s = float(state.get("wall_s", 0.0))
    t.fixed_latents = state["fixed_latents"]
    t.last_stats = dict(state.get("stats", {}))
    t.accum.clear()
    t.accum.update({int(k): int(v) for k, v in state.get("accum", {}).items()})
    t.recipe.load_state_dict(state)
    restore_rng_state(state["rng"])
    t.rng.set_state(state["rng"]["train"])
