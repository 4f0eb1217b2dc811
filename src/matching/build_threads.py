"""Threads for building the index: its compiled loops release the GIL, so independent ranges
of documents, and independent segments, are run on every core the process may use."""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
# Past a few threads the build is bound by its single-threaded text analysis anyway.
MAX_THREADS = 4
# Ranges per thread: more than one, so a thread that another process slows down leaves its
# share to the others.
RANGES_PER_THREAD = 4


def thread_count() -> int:
    """Threads for the build: the cores this process may run on, at most MAX_THREADS."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    cores = len(usable) if usable else os.cpu_count() or 1
    return max(1, min(MAX_THREADS, cores))


def ranges(size: int) -> list[tuple[int, int]]:
    """[first, stop) ranges covering 0..size-1 in order, a few per thread (none if empty)."""
    parts = max(1, min(size, thread_count() * RANGES_PER_THREAD))
    bounds = [size * i // parts for i in range(parts + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(parts) if bounds[i] < bounds[i + 1]]


def run_all(work: Callable[[T], object], items: Iterable[T]) -> None:
    """Call work(item) for every item on the build's threads; errors are raised here."""
    with ThreadPoolExecutor(thread_count()) as pool:
        for done in [pool.submit(work, item) for item in items]:
            done.result()


def pool() -> ThreadPoolExecutor:
    """An executor with the build's threads (the caller shuts it down)."""
    return ThreadPoolExecutor(thread_count())


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None)
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None
    return trim


_trim = _malloc_trim()


def return_freed_memory() -> None:
    """Hand the heap memory freed so far back to the system (glibc; elsewhere a no-op)."""
    # Each build thread allocates from its own malloc arena, and memory freed there stays
    # resident: without this the index's process held ~25 MB more after a build.
    if _trim is not None:
        _trim(0)
