"""Importing notices into real PostgreSQL: needs, idempotence, changes, cancellations, claims,
and a reserved notice reaching the right co-op's inbox and webhook through the real worker."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from asfmatch.notices.importing import ImportReport, import_documents
from asfmatch.notices.reading import read_documents
from asfmatch.storage.organisations import create_organisation
from asfmatch.storage.settings import Settings
from notifications.notify_testkit import (  # noqa: F401 - fixtures, found by pytest by name
    API,
    Receiver,
    add_webhook,
    make_supplier,
    notify_settings,
    receiver_fixture,
)
from testkit import drain

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
LULEA = ["se_cn_reserved_lulea.xml"]


async def _import(db: asyncpg.Connection, *names: str) -> ImportReport:
    paths = [str(FIXTURES / name) for name in names]
    return await import_documents(db, read_documents(paths), NOW)


async def _need(db: asyncpg.Connection, need_id: int) -> asyncpg.Record:
    row = await db.fetchrow("SELECT * FROM needs WHERE id = $1", need_id)
    assert row is not None
    return row


async def _queued(db: asyncpg.Connection, kind: str, entity_id: int) -> bool:
    found = await db.fetchval(
        "SELECT count(*) FROM jobs WHERE kind = $1 AND entity_id = $2 AND state = 'queued'",
        kind,
        entity_id,
    )
    return bool(found)


async def test_importing_the_fixture_folder_creates_needs_and_reports_each_skip(
    db: asyncpg.Connection,
) -> None:
    report = await import_documents(db, read_documents([str(FIXTURES)]), NOW)
    # 7 Swedish fixtures + 1 OCDS package (4 releases) + 9 eForms SDK examples.
    assert report.documents == 17
    assert len(report.created) == 7
    assert len(report.reserved) == 2
    reasons = sorted(skip.reason.split(":")[0].split(" (")[0] for skip in report.skipped)
    assert reasons.count("not Swedish") == 6
    assert reasons.count("award notice") == 3
    assert "deadline passed" in reasons
    assert "no text and no CPV code" in reasons
    assert "unparseable" in reasons
    assert all(skip.file and skip.where for skip in report.skipped)
    sources = dict(
        await db.fetch("SELECT source, count(*) FROM needs GROUP BY source ORDER BY source")
    )
    assert sources == {"ocds": 3, "ted": 4}


async def test_a_reserved_notice_becomes_an_open_reserved_need_queued_for_ranking(
    db: asyncpg.Connection,
) -> None:
    report = await _import(db, *LULEA)
    (need_id,) = report.created
    need = await _need(db, need_id)
    assert need["reserved"] and need["status"] == "open" and need["source"] == "ted"
    assert need["buyer_id"] is None and need["buyer_name"] == "Luleå kommun"
    assert need["kommun"] == "2580" and need["lan"] == "25"
    assert need["estimated_value_sek"] == 800_000
    assert need["notice_url"] == "https://ted.europa.eu/en/notice/-/detail/700001-2026"
    assert await _queued(db, "rank_need", need_id)


async def test_importing_the_same_notice_twice_changes_nothing(db: asyncpg.Connection) -> None:
    first = await _import(db, *LULEA)
    before = await _need(db, first.created[0])
    await db.execute("UPDATE jobs SET state = 'done'")
    second = await _import(db, *LULEA)
    assert second.created == [] and second.updated == []
    assert second.unchanged == first.created
    after = await _need(db, first.created[0])
    assert after["change_seq"] == before["change_seq"]
    assert not await _queued(db, "rank_need", first.created[0])


async def test_a_change_notice_updates_the_need_and_ranks_it_again(db: asyncpg.Connection) -> None:
    (need_id,) = (await _import(db, *LULEA)).created
    await db.execute("UPDATE jobs SET state = 'done'")
    report = await _import(db, "se_cn_change_lulea.xml")
    assert report.updated == [need_id] and report.created == []
    need = await _need(db, need_id)
    assert need["title"] == "Lokalvård förskolor och skola"
    assert need["estimated_value_sek"] == 950_000
    assert need["notice_url"].endswith("700101-2026")
    assert await _queued(db, "rank_need", need_id)
    # The first notice arriving late does not undo the change.
    late = await _import(db, *LULEA)
    assert late.updated == [] and late.skipped[0].reason.startswith("older than")
    assert (await _need(db, need_id))["title"] == "Lokalvård förskolor och skola"


async def test_a_cancellation_withdraws_every_lot_of_the_procedure(db: asyncpg.Connection) -> None:
    (need_id,) = (await _import(db, *LULEA)).created
    report = await _import(db, "se_cn_cancel_lulea.xml")
    assert report.withdrawn == [need_id]
    assert (await _need(db, need_id))["status"] == "withdrawn"
    again = await _import(db, "se_cn_cancel_lulea.xml")
    assert again.withdrawn == [] and again.unchanged == [need_id]


async def test_a_cancellation_of_an_unknown_procedure_is_a_skip_with_its_reason(
    db: asyncpg.Connection,
) -> None:
    report = await _import(db, "se_cn_cancel_lulea.xml")
    (skip,) = report.skipped
    assert "of which nothing was imported" in skip.reason
    assert "ChangeReason" in skip.where


async def test_a_notice_of_a_buyer_with_an_account_is_owned_by_it_at_once(
    db: asyncpg.Connection,
) -> None:
    buyer = await create_organisation(
        db, kind="buyer", name="Luleå kommun", org_number="212000-2627"
    )
    (need_id,) = (await _import(db, *LULEA)).created
    assert (await _need(db, need_id))["buyer_id"] == buyer.id


async def test_a_zip_and_stdin_import_like_files(db: asyncpg.Connection, tmp_path: Path) -> None:
    archive_path = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.write(FIXTURES / "se_pin_dalarna.xml", "notices/se_pin_dalarna.xml")
        archive.writestr("notices/readme.txt", "not a notice, so not read")
    zipped = list(read_documents([str(archive_path)]))
    assert [getattr(doc, "name", None) for doc in zipped] == [
        f"{archive_path}:notices/se_pin_dalarna.xml"
    ]
    stdin = io.BytesIO((FIXTURES / "ocds_orebro_releases.json").read_bytes())
    report = await import_documents(db, [*zipped, *read_documents(["-"], stdin)], NOW)
    assert len(report.created) == 4


async def test_a_missing_path_and_a_bad_zip_are_reported_not_raised(db: asyncpg.Connection) -> None:
    report = await import_documents(
        db,
        [
            *read_documents(["/nonexistent/notices"]),
            *read_documents(["-"], io.BytesIO(b"PK\x03\x04 broken")),
        ],
        NOW,
    )
    assert [skip.reason for skip in report.skipped] == [
        "unparseable: no such file or folder",
        "unparseable: not a valid .zip archive",
    ]


async def test_a_reserved_notice_reaches_the_eligible_coops_inbox_and_webhook_only(
    client: Any,
    keys: Any,
    db: asyncpg.Connection,
    settings: Settings,
    receiver: Receiver,
) -> None:
    eligible = await make_supplier(client, keys, "Städkooperativet Trean", target_group_share=0.6)
    too_few = await make_supplier(client, keys, "Rent AB", target_group_share=0.1)
    elsewhere = await make_supplier(
        client, keys, "Dalarnas Städ", target_group_share=0.6, service_area=["20"]
    )
    _, secret = await add_webhook(client, eligible, receiver)
    await drain(settings)
    (need_id,) = (await _import(db, *LULEA)).created
    await drain(settings)

    inbox = await client.get(
        f"{API}/suppliers/{eligible.supplier_id}/notifications", headers=eligible.headers
    )
    (notification,) = inbox.json()["items"]
    (told,) = notification["needs"]
    assert told["need_id"] == need_id
    assert told["source"] == "ted" and told["buyer_name"] == "Luleå kommun"
    assert told["notice_url"] == "https://ted.europa.eu/en/notice/-/detail/700001-2026"
    assert told["reserved"] is True
    for other in (too_few, elsewhere):
        empty = await client.get(
            f"{API}/suppliers/{other.supplier_id}/notifications", headers=other.headers
        )
        assert empty.json()["items"] == []
    [delivery] = await receiver.wait_for(1)
    assert delivery.verified_by == [secret]
    assert delivery.payload["data"]["need_ids"] == [need_id]


async def test_the_needs_list_filters_imported_needs_by_source_and_social_objective(
    client: Any, db: asyncpg.Connection
) -> None:
    await import_documents(db, read_documents([str(FIXTURES)]), NOW)
    ted = (await client.get(f"{API}/needs", params={"source": "ted"})).json()
    assert ted["total"] == 4
    assert {item["source"] for item in ted["items"]} == {"ted"}
    social = (await client.get(f"{API}/needs", params={"social_objective": "true"})).json()
    assert sorted(item["title"] for item in social["items"]) == ["Skolmåltider Boden", "Snöröjning"]
    county = next(item for item in social["items"] if item["title"] == "Snöröjning")
    assert county["whole_lan"] is True and county["kommun"] == "2500" and county["lan"] == "25"
    assert county["buyer_name"] == "Region Norrbotten" and county["buyer_id"] is None
    reserved = (
        await client.get(f"{API}/needs", params={"reserved": "true", "source": "ocds"})
    ).json()
    assert [item["title"] for item in reserved["items"]] == ["Cykelreparationer och cykelservice"]
    bad = await client.get(f"{API}/needs", params={"source": "mercell"})
    assert bad.status_code == 422
    assert "source" in bad.text


async def test_a_buyer_that_signs_up_later_claims_its_notices_by_organisation_number(
    client: Any, keys: Any, db: asyncpg.Connection, admin: dict[str, str]
) -> None:
    report = await import_documents(db, read_documents([str(FIXTURES)]), NOW)
    assert report.created
    region = await create_organisation(
        db, kind="buyer", name="Region Norrbotten", org_number="232100-0230"
    )
    from asfmatch.storage.organisations import create_api_key

    _, secret = await create_api_key(db, region.id, "test")
    headers = {"Authorization": f"Bearer {secret}"}
    claim = await client.post(f"{API}/organisations/{region.id}/claim-notices", headers=headers)
    assert claim.status_code == 200, claim.text
    claimed = claim.json()["claimed"]
    assert len(claimed) == 2
    owned = (await client.get(f"{API}/needs", params={"buyer_id": region.id})).json()
    assert sorted(item["id"] for item in owned["items"]) == claimed
    again = await client.post(f"{API}/organisations/{region.id}/claim-notices", headers=headers)
    assert again.json()["claimed"] == []
    # Now its own: the buyer may change the need like one it posted.
    changed = await client.patch(
        f"{API}/needs/{claimed[0]}", json={"description": "Ändrad text"}, headers=headers
    )
    assert changed.status_code == 200, changed.text


async def test_claiming_someone_elses_notices_is_refused(
    client: Any, keys: Any, admin: dict[str, str]
) -> None:
    buyer_id, buyer = await keys.make("buyer", "Bodens kommun")
    other_id, _ = await keys.make("buyer", "Kiruna kommun")
    supplier_id, supplier = await keys.make("supplier", "Trean")
    path = f"{API}/organisations/{{}}/claim-notices"
    assert (await client.post(path.format(other_id), headers=buyer)).status_code == 403
    assert (await client.post(path.format(supplier_id), headers=supplier)).status_code == 403
    assert (await client.post(path.format(buyer_id))).status_code == 401
    assert (await client.post(path.format(supplier_id), headers=admin)).status_code == 409
    assert (await client.post(path.format(999_999), headers=admin)).status_code == 404


async def test_a_record_package_imports_each_process_once_at_its_current_state(
    db: asyncpg.Connection,
) -> None:
    records = str(Path(__file__).parent / "records" / "ocds_orebro_records.json")
    first = await import_documents(db, read_documents([records]), NOW)
    assert len(first.created) == 2
    assert [skip.where for skip in first.skipped] == ["$.records[2].releases"]
    bikes = await db.fetchrow(
        "SELECT * FROM needs WHERE source = 'ocds' AND procedure_id = $1",
        "ocds-test-orebro-2026-0017",
    )
    assert bikes is not None and bikes["estimated_value_sek"] == 420000 and bikes["reserved"]
    again = await import_documents(db, read_documents([records]), NOW)
    assert again.created == [] and sorted(again.unchanged) == sorted(first.created)
    # The release package's first release is older than the record's state: nothing changes.
    older = await _import(db, "ocds_orebro_releases.json")
    assert bikes["id"] in older.unchanged
    assert (await _need(db, bikes["id"]))["estimated_value_sek"] == 420000


async def test_a_buyer_onboarded_by_an_admin_owns_its_imported_notices_at_once(
    client: Any, db: asyncpg.Connection, admin: dict[str, str]
) -> None:
    report = await import_documents(db, read_documents([str(FIXTURES)]), NOW)
    norrbotten = await db.fetch(
        "SELECT id FROM needs WHERE buyer_org_number = '232100-0230' AND buyer_id IS NULL"
    )
    assert len(norrbotten) == 2 and report.created
    made = await client.post(
        f"{API}/organisations",
        json={"kind": "buyer", "name": "Region Norrbotten", "org_number": "232100-0230"},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    owners = await db.fetch("SELECT buyer_id FROM needs WHERE buyer_org_number = '232100-0230'")
    assert {row["buyer_id"] for row in owners} == {made.json()["id"]}
    # Only its own: every other imported need stays unclaimed.
    assert (
        await db.fetchval("SELECT count(*) FROM needs WHERE buyer_id IS NULL")
        == len(report.created) - 2
    )


async def test_a_self_registered_buyer_claims_nothing_until_an_admin_approves_it(
    client: Any, db: asyncpg.Connection, admin: dict[str, str]
) -> None:
    from asfmatch.services.signup import approve
    from asfmatch.storage import signups
    from asfmatch.storage.organisations import Principal, create_api_key

    await import_documents(db, read_documents([str(FIXTURES)]), NOW)
    # Anyone can type Region Norrbotten's number into the sign-up form.
    region = await create_organisation(
        db, kind="buyer", name="Region Norrbotten", org_number="232100-0230"
    )
    await signups.mark_pending(db, region.id)
    _, secret = await create_api_key(db, region.id, "signup")
    claim = await client.post(
        f"{API}/organisations/{region.id}/claim-notices",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert claim.status_code == 409, claim.text
    assert "approval" in claim.json()["detail"]
    unowned = (
        "SELECT count(*) FROM needs WHERE buyer_org_number = '232100-0230' AND buyer_id IS NULL"
    )
    assert await db.fetchval(unowned) == 2
    admin_org = await create_organisation(
        db, kind="admin", name="Coompanion", org_number="769600-0006"
    )
    await approve(db, Principal(organisation_id=admin_org.id, role="admin", key_id=0), region.id)
    assert await db.fetchval(unowned) == 0
