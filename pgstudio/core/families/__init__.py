"""The registry of model families: a family's name → the object that says what differs.

Adding a family is a new package beside progressive/ and stylegan2/ (its networks, its recipe,
a Family subclass) and one line in FAMILIES. Only this package compares family names.
"""
from __future__ import annotations

from .base import Architecture, Family
from .progressive import PROGRESSIVE
from .stylegan2 import STYLEGAN2

FAMILIES: dict[str, Family] = {f.name: f for f in (PROGRESSIVE, STYLEGAN2)}
DEFAULT = PROGRESSIVE.name          # a config or a record that names no family means this one


def family(name: str | None) -> Family:
    try:
        return FAMILIES[name or DEFAULT]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; choose one of {', '.join(FAMILIES)}") from None


def family_of(architecture: dict) -> Family:
    """The family of a checkpoint's or an export's architecture dict (old ones name none)."""
    return family(architecture.get("arch"))


def family_of_generator(G) -> Family:
    return family_of(G.architecture())


def uses_w_space(G) -> bool:
    """The explorer's space for a generator: w (mapped, truncated toward the mean w) or z."""
    return family_of_generator(G).latent_space == "w"


__all__ = ["Architecture", "Family", "FAMILIES", "DEFAULT", "family", "family_of", "family_of_generator", "uses_w_space"]
