"""JSON-lines files of the run folder (metrics.jsonl, samples/index.jsonl): the one reader.

A line that is not a usable record (garbage, a torn write, a JSON scalar, an object missing the
fields its kind needs) is skipped and reported, never fatal: one bad line costs one record.
An unfinished last line (no newline yet) is left alone, since the trainer that writes the file
may still be finishing it and a follower polls from the offset it returns; only the trainer that
holds the folder's lock cuts a torn tail off, once, when it takes the folder (:func:`repair_torn_tail`).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .disk import writing

# a record's kind → the fields it needs and their types (numbers are int or float, never bool)
NUMBER = (int, float)


@dataclass
class JsonLines:
    records: list[dict]
    offset: int                          # where the next read starts (after the last complete line)
    skipped: list[str] = field(default_factory=list)   # one sentence per unusable line


def _preview(line: bytes) -> str:
    text = line.decode("utf-8", "replace")
    return repr(text if len(text) <= 40 else text[:37] + "...")


def read_jsonl(path: str | os.PathLike, offset: int = 0,
               problem: Callable[[dict], str | None] | None = None) -> JsonLines:
    """The complete lines from byte ``offset`` on that hold usable records.

    ``problem(record)`` says why a JSON object cannot be used (None: it can).
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return JsonLines([], offset)
    end = data.rfind(b"\n") + 1
    records, skipped = [], []
    position = offset
    for raw in data[:end].split(b"\n")[:-1]:
        at = position
        position += len(raw) + 1
        line = raw.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            skipped.append(f"{path.name}: skipped an unreadable line at byte {at} ({_preview(line)})")
            continue
        if not isinstance(record, dict):
            skipped.append(f"{path.name}: skipped a line that is not a JSON object at byte {at} ({_preview(line)})")
            continue
        why = problem(record) if problem else None
        if why:
            skipped.append(f"{path.name}: skipped a record at byte {at}: {why}")
            continue
        records.append(record)
    return JsonLines(records, offset + end, skipped)


def torn_tail(path: str | os.PathLike) -> int:
    """Bytes after the last newline (a line whose writer never finished it)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            chunk, start = b"", size
            while start > 0:
                step = min(65536, start)
                start -= step
                f.seek(start)
                chunk = f.read(step) + chunk
                cut = chunk.rfind(b"\n")
                if cut >= 0:
                    return len(chunk) - cut - 1
            return len(chunk)
    except FileNotFoundError:
        return 0


def repair_torn_tail(path: str | os.PathLike) -> int:
    """Cut an unfinished last line off (so the next record does not glue onto it); bytes removed.

    For the lock holder only: a follower must leave a line being written alone.
    """
    path = Path(path)
    extra = torn_tail(path)
    if extra:
        with writing(path):
            os.truncate(path, os.path.getsize(path) - extra)
    return extra


def fields_problem(record: dict, needed: dict[str, tuple | type]) -> str | None:
    """Which of ``needed`` (name → type(s)) the record lacks or holds with another type."""
    bad = []
    for name, kinds in needed.items():
        value = record.get(name)
        if not isinstance(value, kinds) or isinstance(value, bool):
            bad.append(name)
    if bad:
        return f"{record.get('kind', 'record')} without a valid {', '.join(bad)}"
    return None
