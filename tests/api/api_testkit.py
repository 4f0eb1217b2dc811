"""Plain helpers shared by the API tests: request bodies, organisation numbers, problem checks.

Fixtures live in conftest.py next to this file; these are ordinary functions so test modules
can import them."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from asfmatch.reference.org_numbers import luhn_check_digit

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"
ROLES = ("anonymous", "admin", "buyer", "other_buyer", "supplier", "other_supplier")


@dataclass
class Party:
    """An organisation with one API key."""

    org_id: int
    headers: dict[str, str]
    org_number: str


@dataclass
class World:
    """Two buyers, two suppliers with profiles, an admin; the buyer has an open and a draft
    need; the buyer also has a spare key that tests may revoke."""

    admin: Party
    buyer: Party
    other_buyer: Party
    supplier: Party
    other_supplier: Party
    need_id: int
    draft_id: int
    profile_id: int
    other_profile_id: int
    spare_key_id: int
    extra: dict[str, Any] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        """Auth headers of `role` (empty for anonymous)."""
        if role == "anonymous":
            return {}
        party: Party = getattr(self, role)
        return party.headers


def new_org_number(*, hyphen: bool = True) -> str:
    """A random organisation number with a valid Luhn digit."""
    first_nine = f"{uuid.uuid4().int % 10**9:09d}"
    digits = first_nine + str(luhn_check_digit(first_nine))
    return f"{digits[:6]}-{digits[6:]}" if hyphen else digits


def with_wrong_check_digit(org_number: str) -> str:
    """The same number with its last (Luhn) digit changed, so it no longer checks."""
    last = int(org_number[-1])
    return org_number[:-1] + str((last + 1) % 10)


def need_body(**overrides: Any) -> dict[str, Any]:
    """A valid need: school catering in Luleå."""
    body: dict[str, Any] = {
        "title": "Skollunch till tre förskolor",
        "description": "Catering av lunch, 120 portioner per dag, Luleå centrum.",
        "cpv_codes": ["55524000-9"],
        "kommun": "2580",
        "estimated_value_sek": 400_000,
        "reserved": False,
        "training_places": 2,
    }
    body.update(overrides)
    return body


def supplier_body(org_number: str, **overrides: Any) -> dict[str, Any]:
    """A valid supplier profile: a cooperative doing catering and cleaning in Norrbotten."""
    body: dict[str, Any] = {
        "name": "Kooperativet Matglädje",
        "org_number": org_number,
        "legal_form": "ekonomisk_forening",
        "description": "Catering, skolmat och lokalvård. Arbetsträning för personer långt "
        "från arbetsmarknaden.",
        "home_kommun": "2580",
        "cpv_codes": ["55520000"],
        "service_area": ["25"],
        "employees": 14,
        "target_group_share": 0.6,
        "max_contract_value_sek": 2_000_000,
        "training_places": 4,
        "work_integration_aim": True,
        "employee_participation": True,
        "profits_reinvested": True,
        "independent_of_public_sector": True,
        "contact_email": "kontakt@matgladje.example.se",
    }
    body.update(overrides)
    return body


def assert_problem(response: httpx.Response, status: int, *fields: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; every field in `fields` is named
    in errors[].field. Returns the decoded body."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    for error in body.get("errors", []):
        assert set(error) == {"field", "reason"}, error
        assert isinstance(error["field"], str) and error["field"]
        assert isinstance(error["reason"], str) and error["reason"]
    named = {error["field"] for error in body.get("errors", [])}
    missing = set(fields) - named
    assert not missing, f"errors should name {sorted(missing)}; got {body}"
    return body


def error_fields(response: httpx.Response) -> list[str]:
    """The fields a problem response names, in order."""
    return [error["field"] for error in response.json().get("errors", [])]


async def away_from_window_edge(window: int = 60, margin: float = 3.0) -> None:
    """Rate limits count in fixed windows; wait out the last seconds of one so a short burst of
    requests all lands in the same window."""
    left = window - time.time() % window
    if left < margin:
        await asyncio.sleep(left + 0.05)
