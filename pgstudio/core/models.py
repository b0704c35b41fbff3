"""Build networks from a config, and load a generator from any checkpoint or run folder."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .config import TrainConfig
from .families import Architecture, Family, family, family_of_generator, read_architecture
from .storage.checkpoint import GENERATOR_KEYS, CheckpointError, first_loadable, load_checkpoint
from .storage.records import SchedulePosition
from .storage.runfolder import RunFolder

Generator = torch.nn.Module      # a generator of any family (see families/)


def build_generator(architecture: dict | Architecture) -> Generator:
    """Either family from the ``architecture`` dict that checkpoints and exports carry."""
    if not isinstance(architecture, Architecture):
        architecture = read_architecture(architecture)
    return family(architecture.family).build_generator(architecture)


def generator_architecture(cfg: TrainConfig, image_channels: int) -> dict:
    return family(cfg.arch).architecture(cfg, image_channels).to_dict()


def build_discriminator(cfg: TrainConfig, image_channels: int):
    return family(cfg.arch).build_discriminator(cfg, image_channels)


@dataclass
class LoadedGenerator:
    """An EMA generator with everything needed to sample it as it was when saved."""
    generator: Generator
    level: int
    alpha: float
    kimg: float
    phase: str
    source: Path
    fixed_latents: torch.Tensor | None
    # a run folder's newer checkpoints that could not be used, newest first: (path, reason)
    skipped: tuple[tuple[Path, str], ...] = ()

    @property
    def resolution(self) -> int:
        return 2 ** self.level

    @property
    def family(self) -> Family:
        return family_of_generator(self.generator)

    @property
    def arch(self) -> str:
        return self.family.name

    @property
    def position(self) -> SchedulePosition:
        return SchedulePosition(self.kimg, self.level, self.alpha, self.phase, self.arch)


def resolve_checkpoint(path: str | os.PathLike) -> Path:
    """A checkpoint file as given, or a run folder's newest checkpoint (loadable or not)."""
    path = Path(path).expanduser()
    if path.is_dir():
        ckpts = RunFolder(path).checkpoints()
        if not ckpts:
            raise CheckpointError(f"{path}: no checkpoint in this folder")
        return ckpts[-1]
    if not path.exists():
        raise CheckpointError(f"{path}: no such file or folder")
    return path


def load_newest_checkpoint(path: str | os.PathLike, require: dict = GENERATOR_KEYS
                           ) -> tuple[dict, Path, list[tuple[Path, str]]]:
    """A checkpoint file's state, or a run folder's newest checkpoint that loads (holding the
    ``require`` keys), with the newer ones skipped on the way and why (a damaged newest file falls
    back to the one before)."""
    p = Path(path).expanduser()
    if not p.is_dir():
        ckpt = resolve_checkpoint(p)
        return load_checkpoint(ckpt, require=require), ckpt, []
    ckpts = RunFolder(p).checkpoints()
    if not ckpts:
        raise CheckpointError(f"{p}: no checkpoint in this folder")
    try:
        return first_loadable(reversed(ckpts), require=require)
    except CheckpointError as exc:
        raise CheckpointError(f"{p}: {exc}") from None


def read_export(folder: Path) -> tuple[dict, dict]:
    """A generator export's record (generator.json) and its EMA weights (generator.safetensors)."""
    import json
    from safetensors.torch import load_file
    try:
        return (json.loads((folder / "generator.json").read_text()),
                load_file(str(folder / "generator.safetensors")))
    except Exception as exc:
        raise unusable_export(folder, exc) from None


def unusable_export(folder: Path, exc: Exception) -> CheckpointError:
    return CheckpointError(f"{folder}: unusable generator export ({str(exc).splitlines()[0]})")


def load_exported(folder: Path, device: str | torch.device = "cpu") -> LoadedGenerator:
    """A generator exported with `pgstudio export` (generator.safetensors + generator.json)."""
    meta, weights = read_export(folder)
    try:
        G = build_generator(meta["architecture"])
        G.load_state_dict(weights)
    except Exception as exc:
        raise unusable_export(folder, exc) from None
    G.eval().requires_grad_(False).to(device)
    latents = torch.tensor(meta["fixed_latents"]) if meta.get("fixed_latents") else None
    try:
        where = SchedulePosition.of_export(meta)
    except (KeyError, TypeError, ValueError) as exc:
        raise unusable_export(folder, exc) from None
    return LoadedGenerator(G, where.level, where.alpha, where.kimg, where.phase, folder, latents)


def generator_from_state(state: dict, path: Path) -> Generator:
    """The EMA generator of a loaded checkpoint, in eval mode; CheckpointError if it does not fit."""
    try:
        G = build_generator(state["architecture"])
        G.load_state_dict(state["generator_ema"])
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: generator weights do not match ({str(exc).splitlines()[0]})") from None
    return G.eval().requires_grad_(False)


def load_generator_and_state(path: str | os.PathLike,
                             device: str | torch.device = "cpu") -> tuple[LoadedGenerator, dict | None]:
    """A generator with its schedule position, and the checkpoint state it came from (None for an
    export folder), from one read of the file."""
    p = Path(path).expanduser()
    if p.is_dir() and (p / "generator.json").exists():
        return load_exported(p, device), None
    state, ckpt_path, skipped = load_newest_checkpoint(p)
    G = generator_from_state(state, ckpt_path).to(device)
    where = SchedulePosition.of_checkpoint(state)
    return LoadedGenerator(G, where.level, where.alpha, where.kimg, where.phase, ckpt_path,
                           state.get("fixed_latents"), tuple(skipped)), state


def load_generator(path: str | os.PathLike, device: str | torch.device = "cpu") -> LoadedGenerator:
    """From a checkpoint file, a run folder (newest checkpoint) or a generator export folder."""
    return load_generator_and_state(path, device)[0]


def render_for_user(G, z: torch.Tensor, level: int, alpha: float, psi: float | None = None,
                    noise_mode: str = "const", labels: torch.Tensor | None = None) -> np.ndarray:
    """What the CLI shows for latents: the progressive family's z are used as given (truncated
    when drawn); StyleGAN2 maps them to w and pulls w toward the mean by ψ. A conditional
    generator's labels cycle through its classes when None."""
    return family_of_generator(G).render_latents(G, z, level, alpha, psi, noise_mode, labels)
