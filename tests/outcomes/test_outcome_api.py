"""Recording a need's outcome over the API: who may, what is checked (every bad field named),
what it does to the need, the ASFs' own answers, and the OCDS release of need and award."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from outcome_testkit import API, Party, answer_interested, make_party, post_need

from asfmatch.reference.org_numbers import luhn_check_digit
from asfmatch.storage.settings import Settings
from testkit import drain

SCHEMA = json.loads(
    (Path(__file__).parent / "ocds_schema" / "release-schema-1.1.5.json").read_text("utf-8")
)


def _outside_number() -> str:
    """A valid organisation number nobody on asf-match has."""
    first_nine = "556677889"
    digits = first_nine + str(luhn_check_digit(first_nine))
    return f"{digits[:6]}-{digits[6:]}"


@pytest.fixture
async def parties(client: Any, keys: Any) -> dict[str, Party]:
    return {
        "buyer": await make_party(client, keys, "buyer", "Luleå kommun"),
        "other_buyer": await make_party(client, keys, "buyer", "Bodens kommun"),
        "asf": await make_party(client, keys, "supplier", "Städkooperativet Norr"),
    }


def _fields(response: Any) -> set[str]:
    return {error["field"] for error in response.json()["errors"]}


async def test_an_award_to_an_asf_is_recorded_linked_and_closes_the_need(
    client: Any, parties: dict[str, Party]
) -> None:
    buyer, asf = parties["buyer"], parties["asf"]
    need = await post_need(client, buyer)
    body = {
        "result": "awarded",
        "awarded_to": [
            {"org_number": asf.org_number},
            {"org_number": _outside_number(), "name": "Bygg & Städ AB"},
        ],
        "value_sek": 750_000,
        "contract_start": "2027-01-01",
        "contract_end": "2028-12-31",
        "jobs": 3,
        "training_places": 4,
    }
    response = await client.put(
        f"{API}/needs/{need['id']}/outcome", json=body, headers=buyer.headers
    )
    assert response.status_code == 200, response.text
    outcome = response.json()
    assert outcome["awarded_to"] == [
        {
            "org_number": asf.org_number,
            "name": "Städkooperativet Norr",
            "supplier_id": asf.supplier_id,
        },
        {"org_number": _outside_number(), "name": "Bygg & Städ AB", "supplier_id": None},
    ]
    assert (outcome["value_sek"], outcome["jobs"], outcome["training_places"]) == (750_000, 3, 4)
    closed = await client.get(f"{API}/needs/{need['id']}")
    assert closed.json()["status"] == "closed", "an award ends the need"
    public = await client.get(f"{API}/needs/{need['id']}/outcome")
    assert public.status_code == 200 and public.json() == outcome, "award results are public"
    # Correcting replaces the whole outcome.
    again = await client.put(
        f"{API}/needs/{need['id']}/outcome", json={"result": "not_awarded"}, headers=buyer.headers
    )
    assert again.status_code == 200, again.text
    assert again.json()["awarded_to"] == [] and again.json()["value_sek"] is None


async def test_a_cancelled_procurement_withdraws_the_open_need(
    client: Any, parties: dict[str, Party]
) -> None:
    need = await post_need(client, parties["buyer"])
    response = await client.put(
        f"{API}/needs/{need['id']}/outcome",
        json={"result": "cancelled"},
        headers=parties["buyer"].headers,
    )
    assert response.status_code == 200, response.text
    assert (await client.get(f"{API}/needs/{need['id']}")).json()["status"] == "withdrawn"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"result": "awarded"}, {"awarded_to"}),
        (
            {"result": "awarded", "awarded_to": [{"org_number": "556677-8891"}]},
            {"awarded_to[0].org_number"},
        ),
        ({"result": "awarded", "awarded_to": [{"org_number": "OUTSIDE"}]}, {"awarded_to[0].name"}),
        (
            {"result": "not_awarded", "value_sek": 5, "jobs": 2, "contract_start": "2027-01-01"},
            {"value_sek", "jobs", "contract_start"},
        ),
        (
            {
                "result": "awarded",
                "awarded_to": [{"org_number": "OUTSIDE", "name": "X AB"}],
                "contract_start": "2027-06-01",
                "contract_end": "2027-01-01",
            },
            {"contract_end"},
        ),
        (
            {
                "result": "awarded",
                "awarded_to": [
                    {"org_number": "OUTSIDE", "name": "X"},
                    {"org_number": "OUTSIDE", "name": "Y"},
                ],
            },
            {"awarded_to[1].org_number"},
        ),
        ({"result": "won"}, {"result"}),
        ({"result": "awarded", "value_sek": -1}, {"value_sek"}),
        ({"result": "cancelled", "why": "budget"}, {"why"}),
        (
            {
                "result": "awarded",
                "awarded_to": [{"org_number": "OUTSIDE", "name": "X"}],
                "contract_start": "1 jan",
            },
            {"contract_start"},
        ),
    ],
)
async def test_a_bad_outcome_is_a_422_naming_each_field(
    client: Any, parties: dict[str, Party], body: dict[str, Any], fields: set[str]
) -> None:
    need = await post_need(client, parties["buyer"])
    text = json.dumps(body).replace("OUTSIDE", _outside_number())
    response = await client.put(
        f"{API}/needs/{need['id']}/outcome",
        content=text,
        headers={**parties["buyer"].headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert _fields(response) == fields
    assert (await client.get(f"{API}/needs/{need['id']}")).json()["status"] == "open"
    assert (await client.get(f"{API}/needs/{need['id']}/outcome")).status_code == 404


async def test_only_the_buyer_and_admins_record_an_outcome(
    client: Any, parties: dict[str, Party], admin: dict[str, str]
) -> None:
    need = await post_need(client, parties["buyer"])
    path = f"{API}/needs/{need['id']}/outcome"
    body = {"result": "not_awarded"}
    assert (await client.put(path, json=body)).status_code == 401
    assert (
        await client.put(path, json=body, headers=parties["other_buyer"].headers)
    ).status_code == 403
    assert (await client.put(path, json=body, headers=parties["asf"].headers)).status_code == 403
    assert (await client.put(path, json=body, headers=admin)).status_code == 200


async def test_a_draft_takes_no_outcome_and_its_outcome_and_release_stay_hidden(
    client: Any, parties: dict[str, Party]
) -> None:
    need = await post_need(client, parties["buyer"], status="draft")
    path = f"{API}/needs/{need['id']}"
    response = await client.put(
        f"{path}/outcome", json={"result": "cancelled"}, headers=parties["buyer"].headers
    )
    assert response.status_code == 409
    assert (await client.get(f"{path}/ocds")).status_code == 404
    assert (await client.get(f"{path}/ocds", headers=parties["buyer"].headers)).status_code == 200


async def test_an_interested_asf_answers_whether_it_won_and_no_one_else_can(
    client: Any, parties: dict[str, Party], settings: Settings
) -> None:
    buyer, asf = parties["buyer"], parties["asf"]
    await drain(settings)
    need = await post_need(client, buyer)
    path = f"{API}/suppliers/{asf.supplier_id}/outcome-answers"
    before = await client.post(path, json={"need_id": need["id"], "won": True}, headers=asf.headers)
    assert before.status_code == 422 and _fields(before) == {"need_id"}
    await drain(settings)
    await answer_interested(client, asf, need["id"])
    response = await client.post(
        path, json={"need_id": need["id"], "won": True}, headers=asf.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["won"] is True
    other = await client.post(
        path, json={"need_id": need["id"], "won": True}, headers=buyer.headers
    )
    assert other.status_code == 403


def _validate(release: dict[str, Any]) -> None:
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(release), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


async def test_the_ocds_release_of_an_awarded_reserved_need_is_valid_ocds_1_1(
    client: Any, parties: dict[str, Party]
) -> None:
    buyer, asf = parties["buyer"], parties["asf"]
    need = await post_need(client, buyer, cpv_codes=["90919200", "90911200"])
    tender_only = (await client.get(f"{API}/needs/{need['id']}/ocds")).json()
    _validate(tender_only)
    assert tender_only["tag"] == ["tender"] and tender_only["tender"]["status"] == "active"
    body = {
        "result": "awarded",
        "awarded_to": [{"org_number": asf.org_number}],
        "value_sek": 750_000,
        "contract_start": "2027-01-01",
        "contract_end": "2028-12-31",
    }
    assert (
        await client.put(f"{API}/needs/{need['id']}/outcome", json=body, headers=buyer.headers)
    ).status_code == 200
    release = (await client.get(f"{API}/needs/{need['id']}/ocds")).json()
    _validate(release)
    tender = release["tender"]
    assert tender["otherRequirements"] == {"reservedParticipation": ["shelteredWorkshop"]}
    assert tender["value"] == {"amount": 800_000, "currency": "SEK"}
    item = tender["items"][0]
    assert item["classification"]["scheme"] == "CPV"
    assert item["classification"]["id"].startswith("90919200-")
    assert [c["id"][:8] for c in item["additionalClassifications"]] == ["90911200"]
    assert item["deliveryAddresses"] == [
        {"locality": "Luleå", "region": "Norrbottens län", "country": "SE"}
    ]
    assert tender["tenderPeriod"]["endDate"] is not None
    award = release["awards"][0]
    assert award["value"] == {"amount": 750_000, "currency": "SEK"}
    assert award["suppliers"] == [
        {"id": f"SE-ON-{asf.org_number}", "name": "Städkooperativet Norr"}
    ]
    roles = {party["id"]: party["roles"] for party in release["parties"]}
    assert roles == {
        f"SE-ON-{buyer.org_number}": ["buyer"],
        f"SE-ON-{asf.org_number}": ["supplier"],
    }
    assert release["buyer"]["id"] == f"SE-ON-{buyer.org_number}"
    assert release["tag"] == ["award"] and tender["status"] == "complete"


async def test_the_schema_check_catches_a_broken_release(
    client: Any, parties: dict[str, Party]
) -> None:
    """Guards the validation itself: the vendored schema does reject what OCDS forbids."""
    need = await post_need(client, parties["buyer"])
    release = (await client.get(f"{API}/needs/{need['id']}/ocds")).json()
    release["tender"]["status"] = "open for bids"
    with pytest.raises(AssertionError):
        _validate(release)
    del release["ocid"]
    release["tender"]["status"] = "active"
    with pytest.raises(AssertionError):
        _validate(release)
