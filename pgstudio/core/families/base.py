"""What a model family is: the one object the trainer, the checkpoint code, the explorer and the
studio ask instead of testing a family's name.

A family owns its networks, its architecture record, its training recipe (the random draws of a
step and its D/G phases, see training/recipe.py), its precision rules, its explorer space and its
preset defaults. Families override only what differs from this base.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import KW_ONLY, dataclass, fields
from typing import TYPE_CHECKING

import torch

from ..networks.layers import check_resolution, width_at

if TYPE_CHECKING:                 # a family only reads configs and builds recipes when asked
    from ..config import TrainConfig
    from ..training.recipe import Recipe


# record keys added later whose absence means a value: written only when they differ from it
IMPLIED_BY_ABSENCE = {"resample": "nearest"}


@dataclass(frozen=True)
class Architecture:
    """What a generator is built from, as checkpoints (``"architecture"``) and exports carry it.

    Serialises to exactly the dict pgstudio has always written ("arch" names the family; the
    StyleGAN2 keys only for StyleGAN2), because checkpoints load with ``weights_only=True`` and
    exports are JSON: it is never pickled.
    """
    family: str
    resolution: int
    image_channels: int
    latent_size: int
    fmap_base: int
    fmap_max: int
    # the keys added family by family are named, never positional: a value passed by position
    # once landed in a key added later (a conditional StyleGAN2's classes written as "resample")
    _: KW_ONLY
    mapping_layers: int | None = None     # StyleGAN, StyleGAN2
    demodulate: bool | None = None        # StyleGAN2
    resample: str | None = None           # progressive: "nearest" (the paper) or "fir" upsampling
    g_arch: str | None = None             # classic: mlp, dcgan or resnet
    g_spectral: bool | None = None        # classic: spectral normalisation in G
    attention_res: int | None = None      # classic: self-attention at this resolution (0: none)
    info_categorical: tuple[int, ...] | None = None   # classic: InfoGAN's categorical codes' sizes
    info_continuous: int | None = None    # classic: InfoGAN's continuous codes
    shared_dim: int | None = None         # BigGAN: the shared class embedding's size
    # a class-conditional generator's classes, in label order (None: unconditional, as every
    # record written before conditional training is)
    class_names: tuple[str, ...] | None = None

    def __post_init__(self):
        check_resolution(self.resolution)
        if self.class_names is not None:
            object.__setattr__(self, "class_names", tuple(str(n) for n in self.class_names))
        if self.info_categorical is not None:
            object.__setattr__(self, "info_categorical", tuple(int(k) for k in self.info_categorical))

    @property
    def classes(self) -> int:
        return len(self.class_names or ())

    @property
    def max_level(self) -> int:
        return int(math.log2(self.resolution))

    def width(self, level: int) -> int:
        return width_at(level, self.fmap_base, self.fmap_max)

    def to_dict(self, complete: bool = False) -> dict:
        """The record as written (a value its key's absence means is left out, so such records
        stay as they were written), or ``complete`` with those values named, for comparing."""
        out = {"arch": self.family}
        for f in fields(self):
            value = getattr(self, f.name)
            if not complete and IMPLIED_BY_ABSENCE.get(f.name) == value:
                continue
            if f.name != "family" and value is not None:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out



class Family(ABC):
    """The behaviour both families share; a family subclasses it and overrides what differs
    (its networks it must give)."""
    name: str = ""
    title: str = ""                       # for people: the run form, the window, the explorer
    description: str = ""                 # a few words beside the title in the run form
    grows: bool = True                    # progressive growing: a schedule of fades from 4x4
    latent_space: str = "z"               # the explorer's space: "z" or "w"
    # settings of TrainConfig only this family reads (the run form shows their rows for it)
    own_settings: tuple[str, ...] = ()
    # shared settings its presets set that the run form shows for it (the survey's optimizer,
    # betas, D steps per G step, ...: the other families' presets keep them fixed)
    shown_settings: tuple[str, ...] = ()
    # values of the family's own architecture keys for records that lack them
    architecture_defaults: dict = {}
    # what a preset changes when it trains this family, per preset name ("*": any other)
    preset_overrides: dict[str, dict] = {}
    # presets named after papers, this family's own (name → an object with title, citation, note)
    papers: dict = {}
    # the losses it trains with (training/losses.py): WGAN's weight clipping is for networks that
    # store their weights at their true scale, not the equalised layers of the growing families
    losses: tuple[str, ...] = ("wgan-gp", "logistic", "hinge", "minimax", "lsgan", "rpgan")
    # whether --compile (torch.compile of G and D) may train it: only the progressive family's static
    # graphs compile; the StyleGANs' noise generators and mixing inputs make dynamo retrace every step
    # (measured), and the others were never measured compiled
    compiles: bool = False

    def __repr__(self) -> str:
        return f"<family {self.name}>"

    # --- networks
    def architecture(self, cfg: "TrainConfig", image_channels: int) -> Architecture:
        names = getattr(cfg, "class_names", None)
        return Architecture(self.name, cfg.resolution, image_channels, cfg.latent_size, cfg.fmap_base,
                            cfg.fmap_max, **{k: getattr(cfg, k) for k in self.architecture_defaults},
                            class_names=tuple(names) if names else None)

    @abstractmethod
    def build_generator(self, architecture: Architecture) -> torch.nn.Module:
        """The family's generator for an architecture record."""

    @abstractmethod
    def build_discriminator(self, cfg: "TrainConfig", image_channels: int) -> torch.nn.Module:
        """The family's discriminator for a run's settings (conditioned on its classes when
        ``cfg.class_names`` holds any)."""

    def discriminator_top_blocks(self, D: torch.nn.Module, count: int) -> list[torch.nn.Module]:
        """D's ``count`` highest-resolution blocks with the fromRGB layers that feed them, the
        part FreezeD keeps (both families key their blocks by level and read images through
        ``from_rgb``: one layer, or one per level)."""
        levels = sorted((int(level) for level in D.blocks), reverse=True)[:count]
        modules = [D.blocks[str(level)] for level in levels]
        if isinstance(D.from_rgb, torch.nn.ModuleDict):
            modules += [D.from_rgb[str(level)] for level in levels]
        elif levels:
            modules.append(D.from_rgb)
        return modules

    def discriminator_feature_blocks(self, D: torch.nn.Module) -> list[torch.nn.Module]:
        """The blocks whose outputs projection compares (D's features of an image)."""
        return list(D.blocks.values())

    # --- training
    def config_problems(self, cfg: "TrainConfig") -> list:
        """ConfigProblems of the settings only this family reads."""
        return []

    def resolve_precision(self, name: str, device: torch.device) -> str:
        from ..training.precision import resolve_autocast_precision
        return resolve_autocast_precision(name, device)

    def describe_precision(self, resolved: str, device: torch.device) -> str:
        from ..training.precision import describe_autocast_precision
        return describe_autocast_precision(resolved, device)

    def uses_autocast(self) -> bool:
        """Whether bf16 training wraps the whole of G and D in autocast (else the nets choose)."""
        return True

    def prepare_networks(self, G: torch.nn.Module, D: torch.nn.Module, precision: str) -> None:
        """Adjust freshly built networks to the run's precision (nothing to do by default)."""

    def recipe(self, cfg: "TrainConfig", **parts) -> "Recipe":
        from ..training.recipe import Recipe
        return Recipe(cfg, **parts)

    def preset_values(self, preset: str) -> dict:
        return dict(self.preset_overrides.get(preset, self.preset_overrides.get("*", {})))

    # --- exploring a generator
    def render_latents(self, G, z: torch.Tensor, level: int, alpha: float, psi: float | None = None,
                       noise_mode: str = "const", labels: torch.Tensor | None = None):
        """uint8 images for latents as the CLI and exports show them (z used as given; a
        conditional generator's labels, cycled through its classes when None)."""
        from ..analysis.export import render
        return render(G, z, level, alpha, labels=labels)

    # --- showing a run
    def status_line(self, stats: dict) -> str:
        """The phase label of the window's status bar for a tick's statistics."""
        return str(stats.get("phase", ""))
