"""Helpers of the outcome tests: a buyer, two ASFs and a need they answered interested to."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema

API = "/api/v1"
OCDS_SCHEMA = json.loads(
    (Path(__file__).parent / "ocds_schema" / "release-schema-1.1.5.json").read_text("utf-8")
)

PROFILE: dict[str, Any] = {
    "legal_form": "ekonomisk_forening",
    "description": "Vi utför städning och lokalvård av kontor och förskolor. Arbetsträning.",
    "cpv_codes": ["90910000"],
    "service_area": ["25"],
    "employees": 12,
    "target_group_share": 0.6,
    "training_places": 4,
    "max_contract_value_sek": 2_000_000,
}


@dataclass
class Party:
    """An organisation with an API key (and a supplier profile, for ASFs)."""

    org_id: int
    headers: dict[str, str]
    org_number: str
    supplier_id: int = 0


async def make_party(client: Any, keys: Any, kind: str, name: str) -> Party:
    """An organisation of `kind` with a key; an ASF also gets its profile through the API."""
    org_id, headers = await keys.make(kind, name)
    number = await keys.db.fetchval("SELECT org_number FROM organisations WHERE id = $1", org_id)
    party = Party(org_id=org_id, headers=headers, org_number=number)
    if kind == "supplier":
        body = {"name": name, "org_number": number, **PROFILE}
        response = await client.post(f"{API}/suppliers", json=body, headers=headers)
        assert response.status_code == 201, response.text
        party.supplier_id = int(response.json()["id"])
    return party


async def post_need(client: Any, buyer: Party, **overrides: Any) -> dict[str, Any]:
    """A reserved cleaning need in Luleå closing tomorrow, posted by `buyer`."""
    body = {
        "title": "Lokalvård av förskolor",
        "description": "Städning och lokalvård av tre förskolor i Luleå.",
        "cpv_codes": ["90919200"],
        "kommun": "2580",
        "estimated_value_sek": 800_000,
        "reserved": True,
        "training_places": 2,
        "closes_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        **overrides,
    }
    response = await client.post(f"{API}/needs", json=body, headers=buyer.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def answer_interested(client: Any, supplier: Party, need_id: int) -> None:
    """The ASF answers "interested" to the need from its inbox (the need must have reached it)."""
    inbox = await client.get(
        f"{API}/suppliers/{supplier.supplier_id}/notifications", headers=supplier.headers
    )
    assert inbox.status_code == 200, inbox.text
    for item in inbox.json()["items"]:
        if any(n["need_id"] == need_id for n in item["needs"]):
            response = await client.post(
                f"{API}/suppliers/{supplier.supplier_id}/notifications/{item['id']}/answer",
                json={"interest": "interested", "need_id": need_id},
                headers=supplier.headers,
            )
            assert response.status_code == 200, response.text
            return
    raise AssertionError(f"need {need_id} never reached supplier {supplier.supplier_id}")


def validate_release(release: dict[str, Any]) -> None:
    """Fail with every path the official OCDS 1.1.5 release schema rejects in `release`."""
    validator = jsonschema.Draft4Validator(OCDS_SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(release), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
