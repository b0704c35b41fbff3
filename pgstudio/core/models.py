"""Build networks from a config, and load a generator from any checkpoint or run folder."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from .storage.checkpoint import CheckpointError, first_loadable, load_checkpoint
from .config import TrainConfig
from .families.progressive.discriminator import ProgressiveDiscriminator
from .families.progressive.generator import ProgressiveGenerator
from .storage.runfolder import RunFolder
from .families.stylegan2.discriminator import StyleGAN2Discriminator
from .families.stylegan2.generator import StyleGAN2Generator

Generator = ProgressiveGenerator | StyleGAN2Generator


def build_generator(architecture: dict) -> Generator:
    """Either family from the ``architecture`` dict that checkpoints and exports carry."""
    arch = architecture.get("arch", "progressive")
    common = dict(resolution=architecture["resolution"], image_channels=architecture["image_channels"],
                  latent_size=architecture["latent_size"], fmap_base=architecture["fmap_base"],
                  fmap_max=architecture["fmap_max"])
    if arch == "progressive":
        return ProgressiveGenerator(**common)
    if arch == "stylegan2":
        return StyleGAN2Generator(**common, mapping_layers=int(architecture.get("mapping_layers", 8)),
                                  demodulate=bool(architecture.get("demodulate", True)))
    raise ValueError(f"unknown architecture {arch!r}")


def generator_architecture(cfg: TrainConfig, image_channels: int) -> dict:
    arch = {"arch": cfg.arch, "resolution": cfg.resolution, "image_channels": image_channels,
            "latent_size": cfg.latent_size, "fmap_base": cfg.fmap_base, "fmap_max": cfg.fmap_max}
    if cfg.arch == "stylegan2":
        arch.update(mapping_layers=cfg.mapping_layers, demodulate=cfg.demodulate)
    return arch


def build_discriminator(cfg: TrainConfig, image_channels: int) -> ProgressiveDiscriminator | StyleGAN2Discriminator:
    common = dict(resolution=cfg.resolution, image_channels=image_channels, fmap_base=cfg.fmap_base,
                  fmap_max=cfg.fmap_max, mbstd_group_size=cfg.mbstd_group_size)
    if cfg.arch == "stylegan2":
        return StyleGAN2Discriminator(**common)
    return ProgressiveDiscriminator(**common, downsample=cfg.d_downsample)


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
    def arch(self) -> str:
        return getattr(self.generator, "family", "progressive")


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


def load_newest_checkpoint(path: str | os.PathLike) -> tuple[dict, Path, list[tuple[Path, str]]]:
    """A checkpoint file's state, or a run folder's newest checkpoint that loads, with the newer
    ones skipped on the way and why (a damaged newest file falls back to the one before)."""
    p = Path(path).expanduser()
    if not p.is_dir():
        ckpt = resolve_checkpoint(p)
        return load_checkpoint(ckpt), ckpt, []
    ckpts = RunFolder(p).checkpoints()
    if not ckpts:
        raise CheckpointError(f"{p}: no checkpoint in this folder")
    try:
        return first_loadable(reversed(ckpts))
    except CheckpointError as exc:
        raise CheckpointError(f"{p}: {exc}") from None


def load_exported(folder: Path, device: str | torch.device = "cpu") -> LoadedGenerator:
    """A generator exported with `pgstudio export` (generator.safetensors + generator.json)."""
    import json
    from safetensors.torch import load_file
    try:
        meta = json.loads((folder / "generator.json").read_text())
        G = build_generator(meta["architecture"])
        G.load_state_dict(load_file(str(folder / "generator.safetensors")))
    except Exception as exc:
        raise CheckpointError(f"{folder}: unusable generator export ({str(exc).splitlines()[0]})") from None
    G.eval().requires_grad_(False).to(device)
    latents = torch.tensor(meta["fixed_latents"]) if meta.get("fixed_latents") else None
    return LoadedGenerator(G, int(meta["level"]), float(meta["alpha"]), float(meta.get("kimg", 0.0)),
                           str(meta.get("phase", "stabilize")), folder, latents)


def generator_from_state(state: dict, path: Path) -> Generator:
    """The EMA generator of a loaded checkpoint, in eval mode; CheckpointError if it does not fit."""
    try:
        G = build_generator(state["architecture"])
        G.load_state_dict(state["generator_ema"])
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: generator weights do not match ({str(exc).splitlines()[0]})") from None
    return G.eval().requires_grad_(False)


def load_generator(path: str | os.PathLike, device: str | torch.device = "cpu") -> LoadedGenerator:
    """From a checkpoint file, a run folder (newest checkpoint) or a generator export folder."""
    p = Path(path).expanduser()
    if p.is_dir() and (p / "generator.json").exists():
        return load_exported(p, device)
    state, ckpt_path, skipped = load_newest_checkpoint(p)
    G = generator_from_state(state, ckpt_path).to(device)
    stats = state.get("stats", {})
    return LoadedGenerator(G, int(state["level"]), float(stats.get("alpha", 1.0)),
                           float(state["images_seen"]) / 1000.0, str(stats.get("phase", "stabilize")),
                           ckpt_path, state.get("fixed_latents"), tuple(skipped))
