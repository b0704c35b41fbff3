"""The whole check of a run's settings: those every family reads (TrainConfig.common_problems)
and the family's own — its name among the registered families, then its settings."""
from __future__ import annotations

from .config import LOSSES, ConfigProblem, TrainConfig
from .families import FAMILIES, family


def config_problems(cfg: TrainConfig) -> list[ConfigProblem]:
    """Every problem with the settings, each tied to the setting it concerns (the run form
    outlines that field); empty when the config can train."""
    out = cfg.common_problems()
    if cfg.arch not in FAMILIES:
        out.insert(0, ConfigProblem("arch", f"architecture must be one of {', '.join(FAMILIES)} (got {cfg.arch!r})"))
    else:
        fam = family(cfg.arch)
        if cfg.loss in LOSSES and cfg.loss not in fam.losses:
            out.append(ConfigProblem("loss", f"{fam.title} does not train with the {cfg.loss} loss; "
                                             f"choose one of {', '.join(fam.losses)}"))
        if cfg.compile and not fam.compiles:
            out.append(ConfigProblem("compile", f"--compile is for the progressive family; {fam.title} trains eagerly"))
        out += fam.config_problems(cfg)
    return out


def config_messages(cfg: TrainConfig) -> list[str]:
    """Every problem with the settings as short human messages (empty when valid)."""
    return [p.message for p in config_problems(cfg)]
