"""The demo's support body has verified several demo ASFs (one verification lapsed), and a
demo reset (`asfmatch demo --reset`, the admin's and the presenter's buttons) puts back the
loaded state: posted needs with their joint bids go, and so do every outcome, follow-up
question and answer and every verification recorded during the talk; the demo's own
verifications and closed needs come back."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient
from web_testkit import key_for, sign_in

from asfmatch.api.app import create_app
from asfmatch.demo import DEMO_ADMIN_ORG, demo_data
from asfmatch.importing import ImportResult
from asfmatch.services import demo as demo_service
from asfmatch.services.organisations import ensure_organisation
from asfmatch.storage.organisations import Principal
from asfmatch.storage.settings import Settings
from asfmatch.storage.suppliers import get_supplier, swedish_today
from testkit import Keys, drain

API = "/api/v1"
SUPPORT_BODY = "Coompanion Norrbotten"
OUTCOME_TABLES = (
    "need_outcomes",
    "need_award_suppliers",
    "outcome_rounds",
    "outcome_questions",
    "supplier_outcome_answers",
)


async def _seed(db: asyncpg.Connection) -> list[int]:
    async with db.transaction():
        return await demo_service.seed_verifications(db, 24)


async def test_the_demo_support_body_verified_five_asfs_and_one_lapsed(
    db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    touched = await _seed(db)
    assert len(touched) == 6
    shown = {sid: await get_supplier(db, sid) for sid in touched}
    valid = [s for s in shown.values() if s is not None and s.verified]
    assert len(valid) == 5
    for supplier in valid:
        assert supplier.verification is not None
        assert supplier.verification.verified_by == SUPPORT_BODY
        assert supplier.verification.verified_on < swedish_today()
    lingonriset = await get_supplier(db, demo_world.suppliers["s-lulea-lingonriset"])
    assert lingonriset is not None and lingonriset.verification is not None
    assert (lingonriset.verification.valid, lingonriset.verification.lapse_reason) == (
        False,
        "profile_changed",
    )
    # The profile keeps the share the ASF states; the history keeps what was checked.
    assert lingonriset.target_group_share == 0.58
    checked = await db.fetchval(
        "SELECT target_group_share FROM supplier_verifications WHERE supplier_id = $1",
        lingonriset.id,
    )
    assert checked == 0.45
    björkfjärden = await get_supplier(db, demo_world.suppliers["s-lulea-bjorkfjarden"])
    assert björkfjärden is not None and björkfjärden.verification is not None
    assert björkfjärden.verification.verified_on == swedish_today() - timedelta(days=41)
    assert await db.fetchval("SELECT count(*) FROM supplier_verifications") == 6


async def test_every_demo_verification_names_a_demo_asf_and_says_how_it_was_checked() -> None:
    seed = demo_service.demo_verifications()
    numbers = {row["org_number"] for row in msgspec.json.decode(demo_data())["suppliers"]}
    assert {item.supplier for item in seed.verifications} <= numbers
    assert all(len(item.note) > 40 for item in seed.verifications)
    assert sum(item.then_changed_by_supplier for item in seed.verifications) == 1


async def _talk(
    client: AsyncTestClient[Any],
    db: asyncpg.Connection,
    settings: Settings,
    world: ImportResult,
    admin: dict[str, str],
) -> dict[str, int]:
    """What an audience does: posts a need (joint bids stored for it), records an outcome for
    a demo need (closing it), is asked and answers a follow-up, verifies another ASF and edits
    a verified share."""
    await _seed(db)
    await drain(settings)
    posted = await client.post(
        f"{API}/needs",
        json={
            "buyer_id": world.buyers["b-lulea"],
            "title": "Städning av Kulturens hus",
            "description": "Daglig städning av foajé och salonger.",
            "cpv_codes": ["90919200"],
            "kommun": "2580",
        },
        headers=admin,
    )
    assert posted.status_code == 201, posted.text
    posted_id = int(posted.json()["id"])
    await drain(settings)
    await db.execute(
        """
        INSERT INTO joint_bids (need_id, rank, member_ids, weakest_score, detail, model_version)
        VALUES ($1, 1, $2, 0.3, '{}', 'test')
        """,
        posted_id,
        [world.suppliers["s-lulea-bjorkfjarden"], world.suppliers["s-lulea-renthus"]],
    )
    loaded_need = world.needs["n-lulea-lokalvard-gammelstad"]
    outcome = await client.put(
        f"{API}/needs/{loaded_need}/outcome",
        json={
            "result": "awarded",
            "awarded_to": [{"org_number": "769079-2523", "name": "Björkfjärden"}],
            "value_sek": 900_000,
        },
        headers=admin,
    )
    assert outcome.status_code == 200, outcome.text
    other_need = world.needs["n-lulea-fika-utbildningsdagar"]
    supplier = world.suppliers["s-lulea-bergnaset"]
    organisation = await db.fetchval(
        "SELECT organisation_id FROM supplier_profiles WHERE id = $1", supplier
    )
    notification = await db.fetchval(
        """
        INSERT INTO notifications (supplier_id, kind, detail, channels)
        VALUES ($1, 'outcome.question', $2, '{inbox}') RETURNING id
        """,
        supplier,
        {"need_id": other_need, "title": "Fika", "round_days": 7},
    )
    await db.execute(
        "INSERT INTO outcome_rounds (need_id, round_days, asked) VALUES ($1, 7, true)", other_need
    )
    await db.execute(
        """
        INSERT INTO outcome_questions (need_id, round_days, organisation_id, supplier_id,
                                       notification_id)
        VALUES ($1, 7, $2, $3, $4), ($1, 7, $5, NULL, NULL)
        """,
        other_need,
        organisation,
        supplier,
        notification,
        world.buyers["b-lulea"],
    )
    await db.execute(
        "INSERT INTO supplier_outcome_answers (need_id, supplier_id, won) VALUES ($1, $2, true)",
        other_need,
        supplier,
    )
    renthus = world.suppliers["s-lulea-renthus"]
    verified = await client.post(
        f"{API}/suppliers/{renthus}/verifications",
        json={
            "note": "Sett på plats under konferensen.",
            "target_group_share": 0.35,
            "work_integration_aim": True,
            "employee_participation": True,
            "profits_reinvested": True,
            "independent_of_public_sector": True,
        },
        headers=admin,
    )
    assert verified.status_code == 201, verified.text
    edited = await client.patch(
        f"{API}/suppliers/{world.suppliers['s-lulea-bjorkfjarden']}",
        json={"target_group_share": 0.9},
        headers=admin,
    )
    assert edited.status_code == 200, edited.text
    for table in OUTCOME_TABLES:
        assert await db.fetchval(f"SELECT count(*) FROM {table}") >= 1, table
    return {"posted": posted_id, "loaded": loaded_need, "renthus": renthus}


async def _assert_loaded_state(
    db: asyncpg.Connection, world: ImportResult, ids: dict[str, int]
) -> None:
    assert await db.fetchval("SELECT count(*) FROM needs WHERE id = $1", ids["posted"]) == 0
    assert (
        await db.fetchval("SELECT count(*) FROM joint_bids WHERE need_id = $1", ids["posted"]) == 0
    )
    for table in OUTCOME_TABLES:
        assert await db.fetchval(f"SELECT count(*) FROM {table}") == 0, table
    assert (
        await db.fetchval("SELECT count(*) FROM notifications WHERE kind = 'outcome.question'") == 0
    )
    assert await db.fetchval("SELECT status FROM needs WHERE id = $1", ids["loaded"]) == "open"
    assert await db.fetchval("SELECT count(*) FROM supplier_verifications") == 6
    renthus = await get_supplier(db, ids["renthus"])
    assert renthus is not None and renthus.verification is None
    björkfjärden = await get_supplier(db, world.suppliers["s-lulea-bjorkfjarden"])
    assert björkfjärden is not None and björkfjärden.verified
    assert björkfjärden.target_group_share == 0.62  # the demo's value, not the talk's 90 %
    lingonriset = await get_supplier(db, world.suppliers["s-lulea-lingonriset"])
    assert lingonriset is not None and lingonriset.verification is not None
    assert lingonriset.verification.lapse_reason == "profile_changed"


async def test_the_admins_reset_puts_back_the_loaded_state(
    client: AsyncTestClient[Any],
    db: asyncpg.Connection,
    settings: Settings,
    demo_world: ImportResult,
    admin: dict[str, str],
) -> None:
    ids = await _talk(client, db, settings, demo_world, admin)
    async with db.transaction():
        removed = await demo_service.reset_demo(
            db, Principal(organisation_id=0, role="admin", key_id=0), settings
        )
    assert removed == 1
    await _assert_loaded_state(db, demo_world, ids)
    # The reopened need is ranked again.
    await drain(settings)
    assert await db.fetchval("SELECT count(*) FROM matches WHERE need_id = $1", ids["loaded"]) > 0


async def test_asfmatch_demo_reset_on_the_command_line_resets_it_all(
    client: AsyncTestClient[Any],
    db: asyncpg.Connection,
    settings: Settings,
    demo_world: ImportResult,
    admin: dict[str, str],
    tmp_path: Path,
) -> None:
    ids = await _talk(client, db, settings, demo_world, admin)
    await ensure_organisation(db, "admin", "asf-match administration", DEMO_ADMIN_ORG)
    assert settings.database_url is not None and settings.redis_url is not None
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "ASFMATCH_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "asfmatch", "demo", "--reset"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "removed 1 need(s)" in done.stdout
    await _assert_loaded_state(db, demo_world, ids)


async def test_outside_the_demo_the_admin_page_offers_no_reset_and_refuses_one(
    settings: Settings, db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    admin_id, _ = await Keys(db).make("admin", "Skoopi")
    await _seed(db)
    for demo_mode in (False, True):
        running = msgspec.structs.replace(settings, demo_mode=demo_mode)
        async with AsyncTestClient(app=create_app(running)) as client:
            csrf = await sign_in(client, await key_for(db, admin_id))
            page = await client.get("/admin")
            assert ('data-testid="reset-demo"' in page.text) is demo_mode
            reset = await client.post("/admin/aterstall-demo", data={"_csrf": csrf})
            assert reset.status_code == (200 if demo_mode else 404), reset.text
            if not demo_mode:
                # Nothing was touched: a real deployment keeps its verifications.
                assert await db.fetchval("SELECT count(*) FROM supplier_verifications") == 6
                assert await db.fetchval("SELECT max(id) FROM supplier_verifications") == 6
            else:
                assert 'data-testid="reset-done"' in reset.text
                assert await db.fetchval("SELECT min(id) FROM supplier_verifications") > 6
