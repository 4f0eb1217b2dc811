"""The warm-up compiles every compiled loop the ranking core calls, so none is left to compile
lazily inside a server (10-30 s holding the GIL on a fresh install)."""

from __future__ import annotations

import re
from pathlib import Path

from asfmatch.matching import fit_kernels, kernels
from asfmatch.matching.warmup import compile_kernels

MATCHING = Path(kernels.__file__).parent


def test_every_compiled_loop_the_ranking_core_calls_is_compiled_by_the_warm_up() -> None:
    compile_kernels()
    called = {
        (module, name)
        for path in MATCHING.glob("*.py")
        if path.stem not in ("kernels", "fit_kernels")
        for module, name in re.findall(r"\b(kernels|fit_kernels)\.(\w+)\(", path.read_text())
    }
    assert len(called) >= 10
    modules = {"kernels": kernels, "fit_kernels": fit_kernels}
    lazy = [f"{m}.{n}" for m, n in sorted(called) if not getattr(modules[m], n).signatures]
    assert lazy == []
