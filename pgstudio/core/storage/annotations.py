"""A run's notes and tags, written by its user (the Runs page) and kept in the run folder.

notes.json — {"notes": str, "tags": [str, ...]} — is the user's file: the trainer never writes it,
so it is written atomically whether or not a trainer holds the folder.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .disk import write_atomic

FILE = "notes.json"


@dataclass(frozen=True)
class Annotations:
    notes: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


def parse_tags(text: str) -> tuple[str, ...]:
    """'small, ada  emoji' → ('small', 'ada', 'emoji'): commas or spaces, each tag once, in order."""
    seen: list[str] = []
    for tag in text.replace(",", " ").split():
        if tag not in seen:
            seen.append(tag)
    return tuple(seen)


def read_annotations(run: str | os.PathLike) -> Annotations:
    """The run's notes and tags; none for a folder without the file or with an unreadable one."""
    try:
        d = json.loads((Path(run) / FILE).read_text())
        tags = d.get("tags", [])
        return Annotations(str(d.get("notes", "")), tuple(str(t) for t in tags) if isinstance(tags, list) else ())
    except (OSError, ValueError, AttributeError):
        return Annotations()


def write_annotations(run: str | os.PathLike, annotations: Annotations) -> None:
    write_atomic(Path(run) / FILE, json.dumps({"notes": annotations.notes, "tags": list(annotations.tags)},
                                              indent=1, ensure_ascii=False))
