"""The potential and advice for five realistic draft needs against the demo data.

Starts embedded PostgreSQL in a temporary folder, migrates it and imports the packaged demo data
(as `asfmatch import` does), builds the match index the way the API process does
(services.match_index.IndexKeeper) and runs the endpoint's own assessment
(services.potential.assess) on each draft with the default settings. Prints Markdown, pasted
into docs/advice.md.

    .venv/bin/python bench/advice_demo.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import asyncpg

from asfmatch.demo import demo_data
from asfmatch.services.match_index import IndexKeeper
from asfmatch.services.potential import PotentialDraft, PotentialReport, assess
from asfmatch.storage.embedded import EmbeddedPostgres
from asfmatch.storage.settings import Settings

DRAFTS: list[tuple[str, PotentialDraft]] = [
    (
        "Luleå: cleaning of five preschools, 1.2 MSEK",
        PotentialDraft(
            title="Lokalvård av förskolor i Gammelstad",
            description="Städning vardagar av fem förskolor, ca 3 900 kvm, fönsterputs två "
            "gånger per år. Avtalsperiod två år.",
            cpv_codes=["90919300", "90910000"],
            kommun="2580",
            estimated_value_sek=1_200_000,
            reserved=True,
        ),
    ),
    (
        "Stockholm: cleaning of schools in Järva, 4 MSEK",
        PotentialDraft(
            title="Lokalvård av skolor och förskolor i Järva",
            description="Daglig lokalvård och fönsterputs i tolv skolor och förskolor i Rinkeby "
            "och Tensta.",
            cpv_codes=["90919300", "90910000"],
            kommun="0180",
            estimated_value_sek=4_000_000,
        ),
    ),
    (
        "Dalarna (whole län): 8 work-training places with supervision",
        PotentialDraft(
            title="Arbetsträningsplatser med handledning i Dalarna",
            description="Arbetsträning och arbetsprövning med handledare för deltagare långt "
            "från arbetsmarknaden, rapportering till handläggare.",
            cpv_codes=["85312510", "80530000"],
            lan="20",
            estimated_value_sek=900_000,
            training_places=8,
        ),
    ),
    (
        "Örebro: meal boxes for home-care clients, 2.5 MSEK",
        PotentialDraft(
            title="Matlådor till brukare inom hemtjänsten",
            description="Tillagning och leverans av matlådor, cirka 400 portioner i veckan, "
            "specialkost ska kunna erbjudas.",
            cpv_codes=["55521200", "55521100"],
            kommun="1880",
            estimated_value_sek=2_500_000,
        ),
    ),
    (
        "Linköping: window cleaning at preschools, 450 kSEK",
        PotentialDraft(
            title="Fönsterputs i förskolor",
            description="Fönsterputs två gånger per år i kommunens förskolor.",
            cpv_codes=["90911300"],
            kommun="0580",
            estimated_value_sek=450_000,
        ),
    ),
]


def _sek(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}".replace(",", " ") + " SEK"


def _markdown(title: str, draft: PotentialDraft, report: PotentialReport) -> str:
    advice = report.advice
    capacities = advice.capacities
    place = f"{report.place.kind} {report.place.code}"
    lines = [
        f"### {title}",
        "",
        f"Draft: {place}, CPV {', '.join(draft.cpv_codes)}, value "
        f"{_sek(draft.estimated_value_sek)}, {draft.training_places} training "
        f"{'place' if draft.training_places == 1 else 'places'}"
        f"{', marked reserved' if draft.reserved else ''}.",
        "",
        f"- serving the place: **{report.serving}** active "
        f"{'ASF' if report.serving == 1 else 'ASFs'}; relevant (score ≥ "
        f"{report.min_score}): **{report.relevant}**; meeting the 30 % rule: "
        f"**{report.meet_share}**; of those able to carry the whole draft: "
        f"**{capacities.can_carry_whole}**",
        "- largest contract values of the eligible: "
        + (", ".join(_sek(v) for v in capacities.largest_contract_values_sek) or "none")
        + f"; training places: at most {capacities.max_training_places} at one, "
        f"{capacities.total_training_places} in all",
        "- relevant ASFs: "
        + (
            "; ".join(
                f"{s.name} ({s.score:.2f}, {s.target_group_share:.0%}, "
                f"{_sek(s.max_contract_value_sek)}, {s.training_places} places)"
                for s in report.suppliers
            )
            or "none"
        ),
        f"- **advice: `{advice.code}`**"
        + (
            ""
            if advice.lots is None
            else f" — {advice.lots.lots} lots of {_sek(advice.lots.lot_value_sek)}"
            f"{f' and {advice.lots.lot_training_places} places' if advice.lots.lot_training_places else ''}"
            f", {advice.lots.carriers} carriers, reserve {advice.lots.reserved_lots}"
        ),
    ]
    lines += [f"  - {reason.text}" for reason in advice.reasons]
    return "\n".join(lines) + "\n"


async def _assess_all(database_url: str) -> None:
    settings = Settings()
    connection = await asyncpg.connect(database_url)
    try:
        index = await IndexKeeper().sync(connection)
    finally:
        await connection.close()
    print(
        f"Index {index.version}: {index.supplier_count} suppliers, {index.need_count} needs; "
        f"default settings (relevant from score {settings.potential_min_score}, reserve with "
        f"{settings.advice_reserve_min_suppliers} carriers, lots with "
        f"{settings.advice_lot_min_suppliers} per lot up to {settings.advice_max_lots} lots, "
        f"employment requirement from {_sek(settings.advice_employment_min_value_sek)}).\n"
    )
    for title, draft in DRAFTS:
        print(_markdown(title, draft, assess(index, draft, settings)))


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="asfadvice", dir="/tmp"))
    postgres = EmbeddedPostgres(data_dir)
    try:
        database_url = postgres.start()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "ASFMATCH_DATA_DIR": str(data_dir),
            "ASFMATCH_LOG_LEVEL": "WARNING",
        }
        env.pop("REDIS_URL", None)
        demo_file = data_dir / "demo.json"
        demo_file.write_bytes(demo_data())
        for args in (["migrate"], ["import", str(demo_file)]):
            subprocess.run(
                [sys.executable, "-m", "asfmatch", *args],
                env=env,
                check=True,
                capture_output=True,
            )
        asyncio.run(_assess_all(database_url))
    finally:
        postgres.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
