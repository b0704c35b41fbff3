"""Which classes a run trains with, settled when it starts, and the check that a resumed run's data
set still has them.

A folder's classes are its first-level sub-folders (data/dataset.py). ``classes="auto"`` trains
conditionally when there are two or more and no image lies beside them at the top level (such an
image has no class, so auto trains unconditionally and says why); ``on`` insists and refuses what
it cannot use; ``off`` trains unconditionally. The run's config records the classes in label
order with their counts, and a resume matches the data set's classes to them by name.
"""
from __future__ import annotations

import numpy as np

from ..data.dataset import DatasetError, ImageDataset


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _lie(n: int) -> str:
    return "lies" if n == 1 else "lie"


def choose_classes(dataset: ImageDataset, mode: str) -> tuple[list[str] | None, str]:
    """(class names or None for unconditional, the reason in words); ValueError for ``on`` with a
    folder it cannot train conditionally."""
    names, loose = list(dataset.class_names), dataset.unlabelled
    found = (f"{_plural(len(names), 'class folder')} ({', '.join(names[:6])}{', …' if len(names) > 6 else ''})"
             if names else "no class folders")
    if mode == "off":
        return None, f"classes off: training unconditionally ({found})"
    if len(names) < 2:
        if mode == "on":
            raise ValueError(f"classes on needs two or more first-level sub-folders holding images, one per "
                             f"class; the data set has {found}")
        return None, f"classes auto → off: {found}, training unconditionally"
    if loose:
        if mode == "on":
            raise ValueError(f"classes on: {_plural(loose, 'image')} {_lie(loose)} at the top level of the folder, in no "
                             f"class folder — move them into one of the {len(names)} class folders, or train "
                             "with classes off")
        return None, (f"classes auto → off: {_plural(loose, 'image')} {_lie(loose)} at the top level beside {found}, in no "
                      "class; move them into a class folder to train conditionally")
    counts = dataset.class_counts()
    spread = f"{min(counts):,}" if min(counts) == max(counts) else f"{min(counts):,}–{max(counts):,}"
    return names, f"classes {mode}{' → on' if mode == 'auto' else ''}: {found}, {spread} images each"


def settle(cfg, dataset: ImageDataset):
    """``cfg`` with its classes settled for a new run (the config written says what and why)."""
    names, reason = choose_classes(dataset, cfg.classes)
    return cfg.replace(class_names=names, class_counts=dataset.class_counts() if names else None,
                       classes_reason=reason), reason


def match_classes(dataset: ImageDataset, class_names: list[str], source: str) -> ImageDataset:
    """The data set with its labels in the run's class order, by name; a clear error when a class
    appeared or vanished, or images lie outside every class."""
    mine, theirs = list(dataset.class_names), list(class_names)
    if set(mine) != set(theirs):
        appeared = sorted(set(mine) - set(theirs))
        vanished = sorted(set(theirs) - set(mine))
        parts = ([f"new class folder{'s' if len(appeared) > 1 else ''} {', '.join(appeared)}"] if appeared else []) + \
                ([f"class folder{'s' if len(vanished) > 1 else ''} {', '.join(vanished)} gone or empty"] if vanished else [])
        raise DatasetError(f"{source}: the data set's classes are not the ones this run trains ({'; '.join(parts)}); "
                           "restore the folder as it was, or start a new run")
    if dataset.unlabelled:
        raise DatasetError(f"{source}: {_plural(dataset.unlabelled, 'image')} now {_lie(dataset.unlabelled)} at the top level, in no "
                           "class: move them into a class folder")
    if mine == theirs:
        return dataset
    order = np.array([theirs.index(name) for name in mine], np.int64)
    return ImageDataset(dataset.levels, order[dataset.labels], theirs, dataset.report)


def class_index(class_names: list[str], which: str | int) -> int:
    """A class given by name or by index (as the CLI takes it) → its index; ValueError naming the
    classes otherwise."""
    names = list(class_names)
    if isinstance(which, str) and which in names:
        return names.index(which)
    try:
        index = int(which)
    except (TypeError, ValueError):
        index = None
    if index is not None and 0 <= index < len(names):
        return index
    raise ValueError(f"no class {which!r}: the generator's classes are "
                     + ", ".join(f"{i} {n}" for i, n in enumerate(names)))
