"""The demo's own data beyond the import file (a support body's verifications), and between
two talks the demo goes back to its loaded state."""

from __future__ import annotations

from datetime import timedelta
from importlib.resources import files
from typing import Any

import msgspec

from asfmatch.services import needs as needs_service
from asfmatch.services.access import require
from asfmatch.services.errors import NotFound
from asfmatch.services.needs import NeedCreate
from asfmatch.services.organisations import ensure_organisation
from asfmatch.services.verifications import add_months
from asfmatch.storage import demo_reset, jobs, matches, organisations
from asfmatch.storage import suppliers as suppliers_repo
from asfmatch.storage import verifications as verifications_repo
from asfmatch.storage.db import Connection
from asfmatch.storage.organisations import Principal
from asfmatch.storage.settings import Settings
from asfmatch.storage.verifications import VERIFIED_FIELDS, NewVerification

# The demo buyer the guided run posts for: Luleå, where the demo has ASFs to match.
GUIDED_BUYER = "212000-2742"


class DemoVerification(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A check the demo's support body made `days_ago` days before the demo is loaded. With
    `target_group_share` it found another share than the profile states; with
    `then_changed_by_supplier` the ASF later set its own share back, which lapsed it."""

    supplier: str  # organisation number of a demo ASF
    days_ago: int
    note: str
    target_group_share: float | None = None
    then_changed_by_supplier: bool = False


class DemoOrganisation(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An organisation of the demo named by its number."""

    name: str
    org_number: str


class DemoVerifications(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The demo's support body and what it verified (src/asfmatch/data)."""

    support_body: DemoOrganisation
    verifications: list[DemoVerification]


def demo_verifications() -> DemoVerifications:
    """The packaged demo verifications."""
    raw = files("asfmatch").joinpath("data/demo_verifications.json").read_bytes()
    return msgspec.json.decode(raw, type=DemoVerifications)


def _stated_values() -> dict[str, dict[str, Any]]:
    """The verified fields of each demo ASF as the demo data states them, by organisation
    number: what a reset puts back, whatever was recorded during the talk."""
    raw = files("asfmatch").joinpath("data/demo.json").read_bytes()
    rows: list[dict[str, Any]] = msgspec.json.decode(raw)["suppliers"]
    return {row["org_number"]: {name: row[name] for name in VERIFIED_FIELDS} for row in rows}


async def seed_verifications(db: Connection, valid_months: int) -> list[int]:
    """Record the demo support body's verifications of the demo ASFs, dated back from today
    (so they hold, or lapsed, whatever day the demo starts). Returns the suppliers touched.
    Call inside a transaction."""
    seed = demo_verifications()
    body = await ensure_organisation(
        db, "admin", seed.support_body.name, seed.support_body.org_number
    )
    stated = _stated_values()
    today = suppliers_repo.swedish_today()
    touched: list[int] = []
    for item in seed.verifications:
        organisation = await organisations.find_organisation(db, item.supplier)
        supplier = (
            None
            if organisation is None
            else await suppliers_repo.supplier_of_organisation(db, organisation.id)
        )
        if supplier is None or item.supplier not in stated:
            raise NotFound("demo supplier", item.supplier)
        checked = dict(stated[item.supplier])
        if item.target_group_share is not None:
            checked["target_group_share"] = item.target_group_share
        verified_on = today - timedelta(days=item.days_ago)
        await verifications_repo.record(
            db,
            supplier.id,
            NewVerification(
                verified_by_id=body.id,
                verified_on=verified_on,
                valid_until=add_months(verified_on, valid_months),
                note=item.note,
                **checked,
            ),
        )
        if item.then_changed_by_supplier:
            # The profile keeps the share the ASF states; its own change lapsed the check.
            await suppliers_repo.update_supplier(
                db,
                supplier.id,
                {"target_group_share": stated[item.supplier]["target_group_share"]},
            )
            await verifications_repo.lapse(
                db, supplier.id, "profile_changed", supplier.organisation_id
            )
        touched.append(supplier.id)
    return touched


async def reset_demo(db: Connection, principal: Principal | None, settings: Settings) -> int:
    """Undo what was done since the demo data was loaded: the needs posted since go (with
    their matches, answers, joint bids and questions), and so does every outcome, follow-up
    question and answer; the demo's needs closed meanwhile open again; every verification
    goes and the support body's own are recorded again. What changed is ranked again.
    Returns how many needs went."""
    require(principal, "admin")
    removed = await demo_reset.needs_posted_after_load(db)
    affected: set[int] = set()
    for need_id in removed:
        affected.update(await matches.forget_need(db, need_id))
        await demo_reset.delete_need(db, need_id)
    await demo_reset.delete_outcomes(db)
    for need_id in await demo_reset.reopen_loaded_needs(db):
        await jobs.enqueue(db, jobs.RANK_NEED, need_id)
    verified = await demo_reset.delete_verifications(db)
    # Their badges leave the cached need lists (recording them again bumps those too).
    await matches.bump_lists_showing(db, verified)
    reverified = await seed_verifications(db, settings.verification_valid_months)
    if settings.reserved_requires_verification:
        # As recording or lapsing a verification does then: the stored pairs may describe
        # another eligibility for reserved needs.
        for supplier_id in sorted(set(verified) | set(reverified)):
            for need_id in await matches.forget_supplier(db, supplier_id):
                await jobs.enqueue(db, jobs.RANK_NEED, need_id)
            affected.add(supplier_id)
    for supplier_id in sorted(affected):
        await jobs.enqueue(db, jobs.RANK_SUPPLIER, supplier_id)
    return len(removed)


async def guided_run(db: Connection, need: NeedCreate) -> int:
    """Post the guided run's prepared need for the demo buyer, once per reset: if it is open
    already, its id is returned and nothing is posted. Only `asfmatch demo` offers this (the
    presenter's page checks); it is what lets a read-only projector start the run without
    being able to post anything else."""
    buyer = await organisations.find_organisation(db, GUIDED_BUYER)
    if buyer is None:
        raise NotFound("demo buyer", GUIDED_BUYER)
    existing = await demo_reset.open_need_posted_after_load(db, buyer.id, need.title)
    if existing is not None:
        return existing
    principal = Principal(organisation_id=buyer.id, role="buyer", key_id=0)
    created = await needs_service.create_need(db, principal, need)
    return created.id
