"""Memory a finished job freed, handed back to the system."""
from __future__ import annotations

import ctypes
import ctypes.util
import gc


def release_freed_memory() -> None:
    """glibc keeps the freed blocks of a worker thread's arena for reuse, so a score that peaked at
    a gigabyte left the process that size; malloc_trim returns them. Elsewhere this only collects."""
    gc.collect()
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
