"""The registry of model families: a family's name → the object that says what differs.

Adding a family is a new package beside progressive/, stylegan/, stylegan2/, classic/ and biggan/ (its networks, its recipe,
a Family subclass) and one line in FAMILIES. Only this package compares family names.
"""
from __future__ import annotations

from dataclasses import fields

from ..config import DEFAULT_ARCH
from .base import Architecture, Family
from .biggan import BIGGAN
from .classic import CLASSIC
from .progressive import PROGRESSIVE
from .stylegan import STYLEGAN
from .stylegan2 import STYLEGAN2

FAMILIES: dict[str, Family] = {f.name: f for f in (PROGRESSIVE, STYLEGAN, STYLEGAN2, CLASSIC, BIGGAN)}
DEFAULT = DEFAULT_ARCH              # a config or a record that names no family means this one
assert DEFAULT in FAMILIES


def family(name: str | None) -> Family:
    try:
        return FAMILIES[name or DEFAULT]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; choose one of {', '.join(FAMILIES)}") from None


def family_with_paper(name: str) -> Family | None:
    """The family whose own presets include the paper ``name`` (None: no family's)."""
    return next((f for f in FAMILIES.values() if name in f.papers), None)


def read_architecture(record: dict) -> Architecture:
    """A checkpoint's or an export's architecture dict; keys it lacks mean what the code that
    wrote it did (its family's defaults; no "arch": the progressive family)."""
    fam = family(record.get("arch"))
    values = {**fam.architecture_defaults, **{k: v for k, v in record.items() if k != "arch"}}
    known = {f.name for f in fields(Architecture)}
    return Architecture(family=fam.name, **{k: v for k, v in values.items() if k in known})


def family_of(architecture: dict) -> Family:
    """The family of a checkpoint's or an export's architecture dict (old ones name none)."""
    return family(architecture.get("arch"))


def family_of_generator(G) -> Family:
    return family_of(G.architecture())


def uses_w_space(G) -> bool:
    """The explorer's space for a generator: w (mapped, truncated toward the mean w) or z."""
    return family_of_generator(G).latent_space == "w"


__all__ = ["Architecture", "Family", "FAMILIES", "DEFAULT", "family", "read_architecture", "family_of", "family_of_generator", "uses_w_space"]
