"""The ranking core's compiled loops (numba) compiled before a request needs them.

Compiled lazily, they cost one process 10-20 s on its first ranking after an install or a
change to their source, holding the GIL, so a server answers nothing meanwhile (a fresh clone's
tests saw requests time out). numba's on-disk cache (`cache=True`) then serves every later
process, so this costs a fraction of a second once it has run."""

from __future__ import annotations

import time

from asfmatch.matching.model import Need, SupplierProfile
from asfmatch.matching.ranking import MatchIndex


def compile_kernels() -> float:
    """Build a tiny index and rank, score, explain and update through it; seconds taken."""
    started = time.perf_counter()
    # Six cleaners, so a ranking for one keeps more candidates than it filters first.
    cleaners = [
        SupplierProfile(
            id=number,
            name=f"Städ {number}",
            description="Städning och lokalvård av kontor och skolor",
            cpv_codes=("90910000",),
            service_area=("2580",),
            target_group_share=0.5,
            max_contract_value_sek=1_000_000,
        )
        for number in range(1, 7)
    ]
    suppliers = [
        *cleaners,
        SupplierProfile(
            id=7,
            name="Kök",
            description="Catering och måltider till förskolor",
            cpv_codes=("55520000",),
            service_area=("25",),
        ),
        SupplierProfile(
            id=8, name="Steget", description="Arbetsträning och lokalvård", service_area=("SE",)
        ),
    ]
    need = Need(
        id=1,
        title="Lokalvård",
        description="Städning av förskolor",
        cpv_codes=("90919200",),
        kommun="2580",
        kommuner=("2580", "2581"),
        estimated_value_sek=500_000,
    )
    index = MatchIndex.build(suppliers, [need], {})
    index.rank_suppliers(need, limit=1)
    index.rank_needs(suppliers[0])
    index.score_partners(need, 5)
    index.upsert_supplier(suppliers[-1])
    index.upsert_need(need)
    return time.perf_counter() - started
