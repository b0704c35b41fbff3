"""Starting a new run from a trained model (transfer learning).

The origin is a checkpoint, a run folder (its newest checkpoint that loads) or a generator export.
The new run's G, D and EMA generator start from its weights (an export holds only the EMA
generator: G starts from it too and D starts fresh); optimizer state, augmentation strength, RNGs
and the fixed latents start fresh. The new run records where it started in config.json
(``start_from``), and a progressive origin starts the schedule at the level it reached through
``schedule_offset_kimg`` (schedule.py): the schedule stays a pure function of the images *this*
run has trained, shifted by that offset, so its curves share the x axis with a run from scratch.

``freeze_d`` keeps D's K highest-resolution blocks, their fromRGB included, at the origin's
weights (FreezeD, Mo et al. 2020): they are left out of D's optimizer and never take gradients.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..config import TrainConfig
from ..families import family, read_architecture
from ..models import load_newest_checkpoint, read_export, unusable_export
from ..storage.checkpoint import CheckpointError
from ..storage.records import SchedulePosition

# what a checkpoint needs to start a run from it with its discriminator
TRANSFER_KEYS = {"architecture": dict, "generator": dict, "generator_ema": dict, "discriminator": dict,
                 "level": int, "images_seen": int}


@dataclass(frozen=True)
class Origin:
    """The trained model a new run starts from."""
    path: Path                       # the checkpoint file or export folder the weights come from
    kind: str                        # "checkpoint" (G, D and EMA) or "export" (the EMA generator only)
    architecture: dict
    position: SchedulePosition
    generator: dict
    generator_ema: dict
    discriminator: dict | None
    config: TrainConfig | None       # the origin run's settings (None for an export)
    skipped: tuple = ()              # a run folder's newer checkpoints that did not load, and why

    @property
    def has_discriminator(self) -> bool:
        return self.discriminator is not None

    @property
    def image_channels(self) -> int:
        return int(self.architecture.get("image_channels", 3))

    def record(self) -> dict:
        """config.json's ``start_from``: what the Checkpoints page and the log say."""
        return {"path": str(self.path), "kind": self.kind, "kimg": round(self.position.kimg, 3),
                "resolution": self.position.resolution, "alpha": round(self.position.alpha, 4),
                "phase": self.position.phase, "arch": self.position.family,
                "data": (self.config.data if self.config and not self.config.demo else
                         "demo" if self.config else None)}


def read_origin(path: str | os.PathLike) -> Origin:
    """A checkpoint file, a run folder's newest usable checkpoint, or a generator export folder."""
    p = Path(path).expanduser().resolve()
    if p.is_dir() and (p / "generator.json").exists():
        return _read_export(p)
    state, p, skipped = load_newest_checkpoint(p, require=TRANSFER_KEYS)
    cfg = TrainConfig.from_json(state["config"]) if isinstance(state.get("config"), str) else None
    return Origin(p, "checkpoint", dict(state["architecture"]), SchedulePosition.of_checkpoint(state),
                  state["generator"], state["generator_ema"], state["discriminator"], cfg, tuple(skipped))


def _read_export(folder: Path) -> Origin:
    meta, weights = read_export(folder)
    try:
        architecture = read_architecture(meta["architecture"]).to_dict()
        position = SchedulePosition.of_export(meta)
    except Exception as exc:
        raise unusable_export(folder, exc) from None
    return Origin(folder, "export", architecture, position, weights, weights, None, None)


def matching_settings(origin: Origin) -> dict:
    """The settings that rebuild the origin's networks (the family's architecture record): what
    the CLI and the run form take from it unless told otherwise."""
    arch = read_architecture(origin.architecture)
    values = {"arch": arch.family, "resolution": arch.resolution, "latent_size": arch.latent_size,
              "fmap_base": arch.fmap_base, "fmap_max": arch.fmap_max,
              "channels": "gray" if arch.image_channels == 1 else "rgb"}
    for name in family(arch.family).architecture_defaults:
        values[name] = getattr(arch, name)
    return values


def architecture_differences(origin: Origin, cfg: TrainConfig, image_channels: int) -> list[str]:
    """What differs between the origin's networks and the ones ``cfg`` builds, one line each
    ("resolution: the trained model has 32, this run 64"); empty when they match."""
    mine = family(cfg.arch).architecture(cfg, image_channels).to_dict(complete=True)
    theirs = read_architecture(origin.architecture).to_dict(complete=True)
    if "class_names" not in theirs:     # an unconditional model starts a conditional run: its label
        mine.pop("class_names", None)   # layers start fresh (load_into), everything else loads
    names = {"arch": "model family", "image_channels": "image channels", "latent_size": "latent size",
             "fmap_base": "fmap base", "fmap_max": "fmap max", "mapping_layers": "mapping layers",
             "class_names": "classes", "resample": "G upsampling"}
    out = []
    for key in sorted(set(mine) | set(theirs), key=lambda k: (k != "arch", k)):
        if mine.get(key) != theirs.get(key):
            out.append(f"{names.get(key, key)}: the trained model has {theirs.get(key, '—')}, "
                       f"this run {mine.get(key, '—')}")
    return out


def schedule_offset_kimg(cfg: TrainConfig, origin: Origin) -> float:
    """Where in ``cfg``'s schedule the new run begins: at the origin's level — in a fade at its α,
    in a stabilize phase at that phase's start (a family that does not grow: 0)."""
    from .schedule import full_phases
    if not family(cfg.arch).grows:
        return 0.0
    pos = origin.position
    for phase in full_phases(cfg):
        if phase.level == pos.level and phase.kind == ("fade" if pos.alpha < 1.0 else "stabilize"):
            if phase.kind == "fade":
                return phase.start_kimg + pos.alpha * (phase.end_kimg - phase.start_kimg)
            return phase.start_kimg
    return 0.0


def configured(cfg: TrainConfig, origin: Origin, freeze_d: int = 0) -> TrainConfig:
    """``cfg`` for a run starting from ``origin``: where it starts, D's frozen blocks, and the
    origin's D settings that say how D computes (its minibatch-stddev group, downsampling form and
    StyleGAN2 block form, which also decides whether the skip has a bias), so the trained D goes on
    computing what it learned."""
    changes = {"start_from": origin.record(), "freeze_d": int(freeze_d)}
    if origin.config is not None and origin.config.arch == cfg.arch:
        changes.update(mbstd_group_size=origin.config.mbstd_group_size, d_downsample=origin.config.d_downsample,
                       d_block=origin.config.d_block)
    cfg = cfg.replace(**changes)
    return cfg.replace(schedule_offset_kimg=round(schedule_offset_kimg(cfg, origin), 6))


def check_origin(origin: Origin, cfg: TrainConfig, image_channels: int) -> None:
    """ValueError naming every difference, or a D to freeze that the origin does not have."""
    problems = architecture_differences(origin, cfg, image_channels)
    if problems:
        raise ValueError(f"{origin.path} cannot start this run, its architecture differs — "
                         + "; ".join(problems))
    if cfg.freeze_d and not origin.has_discriminator:
        raise ValueError(f"{origin.path} is a generator export: it holds no discriminator, so D starts "
                         "fresh and there are no trained blocks to freeze (drop --freeze-d, or start "
                         "from a checkpoint or run folder)")


LABEL_LAYERS = ("first.label.", "mapping.label.", "mapping.w_avg_class", "final.projection.")


def starts_label_layers(origin: Origin, nets) -> bool:
    """Whether the origin is unconditional and the new run conditional: its label layers (G's
    label input, D's projection, StyleGAN2's per-class mean w) then start fresh."""
    return "class_names" not in origin.architecture and bool(getattr(nets.G, "classes", 0))


def load_into(nets, origin: Origin) -> None:
    """The origin's weights into a new run's networks (built to the same architecture, or to the
    same one with classes when the origin has none: every weight but the label layers loads)."""
    fresh = starts_label_layers(origin, nets)
    try:
        for net, weights in ((nets.G, origin.generator), (nets.G_ema, origin.generator_ema),
                             (nets.D, origin.discriminator)):
            if weights is None:
                continue
            missing, unexpected = net.load_state_dict(weights, strict=not fresh)
            left = [k for k in missing if not k.startswith(LABEL_LAYERS)] + list(unexpected)
            if left:
                raise RuntimeError(f"weights missing or left over: {', '.join(left[:4])}")
    except RuntimeError as exc:
        raise CheckpointError(f"{origin.path}: its weights do not fit this run's networks "
                              f"({str(exc).splitlines()[0]})") from None


def describe(start_from: dict, freeze_d: int = 0) -> str:
    """One line for the log and the Checkpoints page."""
    what = "G, D and EMA" if start_from.get("kind") == "checkpoint" else "G and EMA (D fresh)"
    where = f"{start_from.get('resolution')}x{start_from.get('resolution')}"
    if start_from.get("alpha", 1.0) < 1.0:
        where += f" α {start_from['alpha']:.2f}"
    frozen = f"; D's {freeze_d} highest-resolution block{'s' if freeze_d != 1 else ''} frozen" if freeze_d else ""
    path = Path(str(start_from.get("path")))
    name = f"{path.parent.parent.name}/{path.name}" if start_from.get("kind") == "checkpoint" else path.name
    labels = "; label layers fresh (the model is unconditional)" if start_from.get("label_layers") == "fresh" else ""
    return (f"started from {name} ({what}, {start_from.get('kimg', 0):g} kimg, "
            f"{where}{frozen}{labels})")
