"""The OCDS release of a lot: one contracting process per procedure (its lots share the ocid),
the procedure's lots in `tender.lots`, and the lot's items and award pointing at their lot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from outcome_testkit import API, Party, make_party, post_need, validate_release


@pytest.fixture
async def buyer(client: Any, keys: Any) -> Party:
    return await make_party(client, keys, "buyer", "Luleå kommun")


async def _post_lots(client: Any, buyer: Party) -> dict[str, Any]:
    body = {
        "need": {
            "title": "Lokalvård av förskolor",
            "description": "Städning och lokalvård av tre förskolor i Luleå.",
            "cpv_codes": ["90919200"],
            "kommun": "2580",
            "estimated_value_sek": 900_000,
            "reserved": True,
            "closes_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        },
        "lots": 3,
        "lot_titles": ["Förskolan Björken", "Förskolan Eken", "Förskolan Linden"],
    }
    response = await client.post(f"{API}/needs/lots", json=body, headers=buyer.headers)
    assert response.status_code == 201, response.text
    posted: dict[str, Any] = response.json()
    return posted


async def _release(client: Any, need_id: int) -> dict[str, Any]:
    response = await client.get(f"{API}/needs/{need_id}/ocds")
    assert response.status_code == 200, response.text
    release: dict[str, Any] = response.json()
    validate_release(release)
    return release


async def test_a_lot_is_released_within_its_procedures_contracting_process(
    client: Any, buyer: Party
) -> None:
    posted = await _post_lots(client, buyer)
    first, second, _ = posted["needs"]
    release = await _release(client, first["id"])
    assert release["ocid"] == f"ocds-asfmatch-{posted['procedure_id']}"
    assert release["ocid"].startswith("ocds-asfmatch-asfmatch-")
    assert release["tag"] == ["tender"]
    tender = release["tender"]
    assert tender["id"] == posted["procedure_id"]
    assert tender["lots"] == [
        {
            "id": f"LOT-000{n}",
            "title": title,
            "status": "active",
            "value": {"amount": 300_000, "currency": "SEK"},
        }
        for n, title in enumerate(["Förskolan Björken", "Förskolan Eken", "Förskolan Linden"], 1)
    ]
    assert tender["value"] == {"amount": 900_000, "currency": "SEK"}, "the whole procedure"
    assert [(item["id"], item["relatedLot"]) for item in tender["items"]] == [
        ("LOT-0001-1", "LOT-0001")
    ]
    assert "awards" not in release

    sibling = await _release(client, second["id"])
    assert sibling["ocid"] == release["ocid"], "the lots of one procedure share the ocid"
    assert sibling["id"] != release["id"]
    assert "LOT-0002" in sibling["id"]
    assert sibling["tender"]["lots"] == tender["lots"]
    assert sibling["tender"]["items"][0]["relatedLot"] == "LOT-0002"
    assert sibling["tender"]["items"][0]["id"] != tender["items"][0]["id"]


async def test_an_awarded_lot_names_its_lot_and_the_other_lots_stay_open(
    client: Any, buyer: Party, keys: Any
) -> None:
    asf = await make_party(client, keys, "supplier", "Städkooperativet Norr")
    posted = await _post_lots(client, buyer)
    first, second, _ = posted["needs"]
    before = await _release(client, second["id"])
    body = {
        "result": "awarded",
        "awarded_to": [{"org_number": asf.org_number}],
        "value_sek": 280_000,
        "contract_start": "2027-01-01",
    }
    response = await client.put(
        f"{API}/needs/{second['id']}/outcome", json=body, headers=buyer.headers
    )
    assert response.status_code == 200, response.text
    release = await _release(client, second["id"])
    assert release["tag"] == ["award"]
    assert release["ocid"] == before["ocid"]
    assert release["id"] != before["id"], "a change is a new release"
    [award] = release["awards"]
    assert award["relatedLots"] == ["LOT-0002"]
    assert award["value"] == {"amount": 280_000, "currency": "SEK"}
    assert award["suppliers"] == [
        {"id": f"SE-ON-{asf.org_number}", "name": "Städkooperativet Norr"}
    ]
    statuses = {lot["id"]: lot["status"] for lot in release["tender"]["lots"]}
    assert statuses == {"LOT-0001": "active", "LOT-0002": "complete", "LOT-0003": "active"}

    other = await _release(client, first["id"])
    assert other["tag"] == ["tender"] and "awards" not in other
    assert other["ocid"] == release["ocid"] and other["id"] != release["id"]
    assert {lot["id"]: lot["status"] for lot in other["tender"]["lots"]}["LOT-0002"] == "complete"


async def test_a_need_not_split_into_lots_keeps_its_own_ocid_and_no_lots(
    client: Any, buyer: Party, keys: Any
) -> None:
    asf = await make_party(client, keys, "supplier", "Städkooperativet Norr")
    need = await post_need(client, buyer)
    release = await _release(client, need["id"])
    ocid = f"ocds-asfmatch-{need['id']}"
    assert release["ocid"] == ocid
    assert release["id"] == f"{ocid}-tender-{release['date']}"
    assert release["tender"]["id"] == str(need["id"])
    assert "lots" not in release["tender"]
    assert release["tender"]["value"] == {"amount": 800_000, "currency": "SEK"}
    [item] = release["tender"]["items"]
    assert item["id"] == "1" and "relatedLot" not in item
    body = {"result": "awarded", "awarded_to": [{"org_number": asf.org_number}]}
    response = await client.put(
        f"{API}/needs/{need['id']}/outcome", json=body, headers=buyer.headers
    )
    assert response.status_code == 200, response.text
    awarded = await _release(client, need["id"])
    assert awarded["ocid"] == ocid
    assert "relatedLots" not in awarded["awards"][0]
