"""Full-state checkpoints: written atomically, loaded without ever running code.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts saved with
``torch.save`` and read with ``torch.load(weights_only=True)``, which refuses pickled
objects that would import or call anything.
"""
from __future__ import annotations

import os
import pickle
import random
import re
from pathlib import Path

import numpy as np
import torch

from .disk import atomic_file

FORMAT = "pgstudio-checkpoint"
VERSION = 1


class CheckpointError(Exception):
    """A checkpoint file cannot be used; the message names the file and why."""


# what a checkpoint must hold to be used at all, and what resuming from it needs besides
GENERATOR_KEYS = {"architecture": dict, "generator_ema": dict, "level": int, "images_seen": int}
RESUME_KEYS = {**GENERATOR_KEYS, "generator": dict, "discriminator": dict, "opt_g": dict, "opt_d": dict,
               "step": int, "d_steps": int, "phase_index": int, "rng": dict, "fixed_latents": torch.Tensor,
               "config": str}
ZIP_MAGIC = b"PK\x03\x04"        # torch.save's archive format (every checkpoint pgstudio writes)


def atomic_torch_save(obj, path: Path) -> None:
    """temporary file → fsync → rename: a crash or a full disk never leaves half a file.

    A refusal of the disk (including torch's own RuntimeError for it) is a DiskWriteError.
    """
    with atomic_file(path) as f:
        torch.save(obj, f)


def non_finite_tensors(state, prefix: str = "") -> list[str]:
    """Names of the floating-point tensors in a nested state (dicts, lists) holding NaN or inf.

    Covers everything a checkpoint carries: the networks, the EMA copy and the optimizers'
    moments (a poisoned ``exp_avg_sq`` freezes Adam's step while the weights stay finite).
    """
    bad = []
    if isinstance(state, torch.Tensor):
        if state.is_floating_point() and state.numel() and not bool(torch.isfinite(state).all()):
            bad.append(prefix or "tensor")
    elif isinstance(state, dict):
        for key, value in state.items():
            bad += non_finite_tensors(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(state, (list, tuple)):
        for i, value in enumerate(state):
            bad += non_finite_tensors(value, f"{prefix}.{i}" if prefix else str(i))
    return bad


def describe_tensors(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu",
                    require: dict = GENERATOR_KEYS) -> dict:
    """A checkpoint's state, checked: its format, the keys in ``require`` (with their types) and
    that every tensor is finite. Anything else is a CheckpointError naming the file and why."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such file")
    if path.is_dir():
        raise CheckpointError(f"{path}: a folder, not a checkpoint file")
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not head:
        raise CheckpointError(f"{path}: empty file")
    if head != ZIP_MAGIC:       # never hand a foreign file to the unpickler: say what it is not
        raise CheckpointError(f"{path}: not a checkpoint (not a PyTorch archive; it starts with {head!r})")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        found = re.search(r"unsupported (?:GLOBAL|global):? ?([\w.]+)", text, re.IGNORECASE)
        if found or "Unsupported" in text:
            what = f" ({found.group(1)})" if found else ""
            raise CheckpointError(f"{path}: refused: it holds Python objects{what}, not only tensors and "
                                  "numbers, and loading it could run code") from None
        raise CheckpointError(f"{path}: damaged checkpoint (its data cannot be decoded)") from None
    except Exception as exc:         # truncated zip, bad struct, bad tensor storage, …
        raise CheckpointError(f"{path}: damaged or truncated checkpoint ({str(exc).splitlines()[0]})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a pgstudio checkpoint")
    version = state.get("version", 0)
    if not isinstance(version, int) or version > VERSION:
        raise CheckpointError(f"{path}: written by a newer pgstudio (format {version})")
    wrong = [key for key, kind in require.items()
             if not isinstance(state.get(key), kind) or (kind is int and isinstance(state.get(key), bool))]
    if wrong:
        raise CheckpointError(f"{path}: incomplete checkpoint: missing or malformed {', '.join(wrong)}")
    bad = non_finite_tensors(state)
    if bad:
        raise CheckpointError(f"{path}: poisoned checkpoint: non-finite values in {describe_tensors(bad)}")
    return state


def first_loadable(paths_newest_first, require: dict = GENERATOR_KEYS) -> tuple[dict, Path, list]:
    """The first of ``paths`` that loads, and the (path, reason) of each one skipped before it.

    Raises CheckpointError (listing why) when none loads.
    """
    skipped: list[tuple[Path, str]] = []
    for path in paths_newest_first:
        try:
            return load_checkpoint(path, require=require), Path(path), skipped
        except CheckpointError as exc:
            skipped.append((Path(path), str(exc).replace(f"{path}: ", "")))
    if not skipped:
        raise CheckpointError("no checkpoint yet")
    raise CheckpointError(f"no usable checkpoint ({len(skipped)} unusable; newest: "
                          f"{skipped[0][0].name}: {skipped[0][1]})")


def capture_rng_state() -> dict:
    np_state = np.random.get_state()
    py_state = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
        "python": {"version": int(py_state[0]), "state": list(py_state[1]),
                   "gauss_next": py_state[2]},
    }


def restore_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss_next"]))
