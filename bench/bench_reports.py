"""What does a yearly report cost, and how does it grow with the needs it covers?

Fills an embedded PostgreSQL with N needs spread over five years and every län (a third of
them with an outcome, half of those won by an ASF, two interested answers per need on
average), then times the report's queries (services.reports: one GROUP BY per scope, plus the
per-län one nationally) against the baseline of the same run: one page of the public need
listing (GET /needs, a hot path). Printed as ratios, at 1,000 and at 10,000 needs, with the
plan PostgreSQL chose for each scope.

    .venv/bin/python bench/bench_reports.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from asfmatch.services import reports
from asfmatch.storage import needs as needs_repo
from asfmatch.storage.embedded import EmbeddedPostgres
from asfmatch.storage.migrations import migrate
from asfmatch.storage.organisations import Principal

SUPPLIERS = 300
BUYERS = 100
LAN = [
    "01",
    "03",
    "04",
    "05",
    "06",
    "07",
    "08",
    "09",
    "10",
    "12",
    "13",
    "14",
    "17",
    "18",
    "19",
    "20",
    "21",
    "22",
    "23",
    "24",
    "25",
]


async def _fill(connection: asyncpg.Connection, needs: int) -> None:
    await connection.execute("TRUNCATE organisations CASCADE")
    await connection.execute(
        """
        INSERT INTO organisations (kind, name, org_number)
        SELECT CASE WHEN i <= $1::int THEN 'supplier' ELSE 'buyer' END, 'O' || i,
               lpad(i::text, 6, '0') || '-0000'
        FROM generate_series(1, $1::int + $2::int) i
        """,
        SUPPLIERS,
        BUYERS,
    )
    await connection.execute(
        """
        INSERT INTO supplier_profiles (organisation_id, legal_form, description, employees,
                                       target_group_share)
        SELECT id, 'ekonomisk_forening', 'städning', 5, 0.5 FROM organisations
        WHERE kind = 'supplier'
        """
    )
    # Needs over five years, buyers and län round robin; a kommun code of the län (XX80).
    await connection.execute(
        """
        INSERT INTO needs (buyer_id, title, description, kommun, reserved, status, created_at)
        SELECT b.id, 'N' || i, 'städning', ($3::text[])[1 + i % 21] || '80', i % 3 = 0,
               'closed', now() - make_interval(days => (i * 1826 / $1::int))
        FROM generate_series(1, $1) i
        JOIN LATERAL (SELECT id FROM organisations WHERE kind = 'buyer'
                      ORDER BY id OFFSET i % $2 LIMIT 1) b ON true
        """,
        needs,
        BUYERS,
        LAN,
    )
    await connection.execute(
        """
        INSERT INTO notifications (supplier_id, kind, channels)
        SELECT id, 'need.matched', '{inbox}' FROM supplier_profiles
        """
    )
    await connection.execute(
        """
        INSERT INTO notified_needs (supplier_id, need_id, notification_id, score)
        SELECT s.id, n.id, (SELECT min(id) FROM notifications t WHERE t.supplier_id = s.id), 0.5
        FROM needs n CROSS JOIN LATERAL (
            SELECT id FROM supplier_profiles ORDER BY id OFFSET n.id % 290 LIMIT 4) s
        """
    )
    await connection.execute(
        """
        INSERT INTO need_interest (need_id, supplier_id, interested)
        SELECT need_id, supplier_id, (need_id + supplier_id) % 2 = 0 FROM notified_needs
        """
    )
    await connection.execute(
        """
        INSERT INTO need_outcomes (need_id, result, value_sek, jobs, training_places)
        SELECT id, 'awarded', 100000 + id, id % 3, id % 4 FROM needs WHERE id % 3 = 1
        """
    )
    await connection.execute(
        """
        INSERT INTO need_award_suppliers (need_id, position, org_number, name, supplier_id)
        SELECT o.need_id, 0, '556677-8899', 'X', CASE WHEN o.need_id % 2 = 0
            THEN (SELECT min(id) FROM supplier_profiles) END
        FROM need_outcomes o
        """
    )
    await connection.execute("VACUUM ANALYZE")


async def _time(call: Callable[[], Awaitable[object]], rounds: int) -> float:
    for _ in range(3):
        await call()
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def _plan(connection: asyncpg.Connection, where: str) -> str:
    rows = await connection.fetch(
        "EXPLAIN SELECT count(*) FROM needs n WHERE n.status <> 'draft' "
        "AND n.created_at >= now() - interval '5 years'" + where
    )
    return " / ".join(row[0].strip() for row in rows if "Scan" in row[0] or "Index Cond" in row[0])


async def _bench(rounds: int) -> None:
    postgres = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="asfbench", dir="/tmp")))
    url = postgres.start()
    now = datetime.now(UTC)
    try:
        connection = await asyncpg.connect(url)
        await migrate(connection)
        results: dict[tuple[str, int], float] = {}
        for needs in (1_000, 10_000):
            await _fill(connection, needs)
            buyer = await connection.fetchval(
                "SELECT min(id) FROM organisations WHERE kind = 'buyer'"
            )
            calls: dict[str, Callable[[], Awaitable[object]]] = {
                "needs page (baseline)": lambda: needs_repo.list_needs(
                    connection, needs_repo.NeedFilter(), page=1, page_size=20
                ),
                "national report": lambda: reports.report(connection, None, now=now),
                "län report": lambda: reports.report(connection, None, lan_code="25", now=now),
                "buyer report": lambda buyer=buyer: reports.report(
                    connection, _admin(), buyer_id=buyer, now=now
                ),
            }
            for name, call in calls.items():
                results[(name, needs)] = await _time(call, rounds)
                print(f"{name:22} {needs:>6} needs: p50 {results[(name, needs)]:8.2f} ms")
            lan_plan = await _plan(connection, " AND n.lan = '25'")
            print(f"  plan, län:   {lan_plan}")
            print(f"  plan, buyer: {await _plan(connection, f' AND n.buyer_id = {buyer}')}")
            print(f"  plan, all:   {await _plan(connection, '')}")
        await connection.close()
        print()
        for name in ("national report", "län report", "buyer report"):
            ratio = results[(name, 10_000)] / results[("needs page (baseline)", 10_000)]
            growth = results[(name, 10_000)] / results[(name, 1_000)]
            print(
                f"{name:22} at 10k needs: {ratio:6.1f}x one needs page; "
                f"10x the needs costs {growth:4.1f}x"
            )
    finally:
        postgres.stop()


def _admin() -> Principal:
    return Principal(organisation_id=0, role="admin", key_id=0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    asyncio.run(_bench(parser.parse_args().rounds))
