"""One text rule for every text field: no NUL or other control characters (newline and tab
only in multi-line fields), no bidirectional overrides. Refused as a 422 naming the field."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from api_testkit import API, World, assert_problem, need_body
from litestar.routes import HTTPRoute

from asfmatch.services.notifications import Answer
from asfmatch.services.text import MULTILINE_REASON, REASON, text_problem

# Characters no single-line field takes.
BAD_IN_A_LINE = [
    "\x00",
    "\x01",
    "\x07",
    "\x08",
    "\t",
    "\n",
    "\x0b",
    "\x0c",
    "\r",
    "\r\n",
    "\x1b[31m",  # ANSI colour
    "\x1b]0;title\x07",  # terminal title
    "\x7f",
    "\x85",  # NEL
    "\x9b",  # CSI
    "\u061c",  # Arabic letter mark
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",  # right-to-left override
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u2028",
    "\u2029",
]
# Characters a multi-line field refuses: the same, less newline and tab.
BAD_IN_TEXT = [c for c in BAD_IN_A_LINE if c not in {"\t", "\n"}]
GOOD_LINES = [
    "Städning av förskolor – Luleå",
    "Café Ödmjuk AB «kooperativ» 🧹",
    "مطعم التعاون",  # Arabic letters are right-to-left by nature: allowed
    "עברית",
    'Zoë\'s "Kök" & Co — 100 %',
]


@pytest.mark.parametrize("bad", BAD_IN_A_LINE, ids=ascii)
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_a_line_with_a_control_or_bidi_character_is_refused(bad: str, where: str) -> None:
    value = {"start": bad + "Luleå", "middle": "Lu" + bad + "leå", "end": "Luleå" + bad}[where]
    assert text_problem(value) == REASON


@pytest.mark.parametrize("bad", BAD_IN_TEXT, ids=ascii)
def test_a_multiline_text_with_a_control_or_bidi_character_is_refused(bad: str) -> None:
    assert text_problem(f"rad ett\nrad{bad}två", multiline=True) == MULTILINE_REASON


@pytest.mark.parametrize("good", GOOD_LINES)
def test_ordinary_text_in_any_script_passes(good: str) -> None:
    assert text_problem(good) is None
    assert text_problem(good + "\n\tindrag", multiline=True) is None


@pytest.mark.parametrize("bad", ["\x1b[31m", "\u202e", "\r\n", "\n", "\x00"], ids=ascii)
async def test_need_titles_refuse_control_characters(client, world: World, db, bad: str) -> None:
    response = await client.post(
        f"{API}/needs", json=need_body(title=f"Skollunch{bad}"), headers=world.buyer.headers
    )
    body = assert_problem(response, 422, "title")
    assert body["errors"][0]["reason"] == REASON
    assert await db.fetchval("SELECT count(*) FROM needs") == 2  # only the world's


async def test_descriptions_keep_newlines_and_tabs_but_refuse_the_rest(
    client, world: World
) -> None:
    kept = "Rad ett.\n\tRad två, indragen.\n"
    created = await client.post(
        f"{API}/needs", json=need_body(description=kept), headers=world.buyer.headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["description"].strip() == kept.strip()
    for bad in ["\x00", "\r\n", "\u202e", "\x1b[2J"]:
        response = await client.post(
            f"{API}/needs", json=need_body(description=f"a{bad}b"), headers=world.buyer.headers
        )
        body = assert_problem(response, 422, "description")
        assert body["errors"][0]["reason"] == MULTILINE_REASON


@pytest.mark.parametrize(
    "email",
    ["kontakt@example.se\n", "kontakt@example.se\r\nBcc: all@example.se", "kont\x00akt@ex.se"],
    ids=ascii,
)
async def test_an_email_with_a_line_break_or_nul_is_refused(
    client, world: World, email: str
) -> None:
    response = await client.patch(
        f"{API}/suppliers/{world.profile_id}",
        json={"contact_email": email},
        headers=world.supplier.headers,
    )
    assert_problem(response, 422, "contact_email")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/organisations", {"kind": "buyer", "name": "Evil\x1b[0m", "org_number": "x"}, "name"),
        ("/organisations/{admin}/keys", {"label": "ci\u202ekey"}, "label"),
        (
            "/suppliers/{profile}/webhooks",
            {"url": "https://e.se/h", "description": "\x00"},
            "description",
        ),
        ("/suppliers/{profile}/webhooks", {"url": "https://e.se/\r\nh"}, "url"),
    ],
    ids=["organisation name", "key label", "webhook description", "webhook url"],
)
async def test_every_kind_of_body_applies_the_rule(
    client, world: World, path: str, body: dict[str, Any], field: str
) -> None:
    headers = world.admin.headers
    url = API + path.format(admin=world.admin.org_id, profile=world.profile_id)
    response = await client.post(url, json=body, headers=headers)
    assert_problem(response, 422, field)


@pytest.mark.parametrize(
    "url", [f"{API}/needs?q=a%1Bb", f"{API}/suppliers?q=%E2%80%AE", f"{API}/cpv?q=st%00d"]
)
async def test_query_text_applies_the_rule(client, url: str) -> None:
    response = await client.get(url)
    assert_problem(response, 422, "q")


@pytest.mark.parametrize("reason", ["\x00", "nej\u202e", "\x1b[1m"], ids=ascii)
def test_an_answers_reason_refuses_nul_and_controls(reason: str) -> None:
    body = msgspec.json.encode(
        {"interest": "not_interested", "reason_code": "other", "reason": reason}
    )
    with pytest.raises(msgspec.ValidationError, match=r"\$\.reason"):
        msgspec.json.decode(body, type=Answer)
    fine = msgspec.json.encode(
        {"interest": "not_interested", "reason_code": "other", "reason": "Rad ett\nrad två"}
    )
    assert msgspec.json.decode(fine, type=Answer).reason == "Rad ett\nrad två"


async def test_every_text_field_carries_the_rule(client) -> None:
    """Any string a client sends (body field or query parameter) is either a closed set
    (enum, date-time) or has a pattern: the text rule, or a stricter one. Bodies are read from
    msgspec's own schema of each handler's body type (the one enforced), query parameters from
    the OpenAPI document."""
    app = client.app
    bodies = [
        handler.parsed_fn_signature.parameters["data"].annotation
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        if "data" in handler.parsed_fn_signature.parameters
    ]
    assert len(bodies) >= 10
    (roots, components) = msgspec.json.schema_components(bodies)
    document = (await client.get("/schema/openapi.json")).json()
    unruled: list[str] = []

    def walk(schema: dict[str, Any], where: str, seen: frozenset[str], ruled: bool = False) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(components[name], name, seen | {name})
            return
        # A nullable field may carry its pattern next to its anyOf.
        ruled = ruled or "pattern" in schema
        for key in ("oneOf", "anyOf", "allOf"):
            for option in schema.get(key, []):
                walk(option, where, seen, ruled)
        if schema.get("type") == "string":
            closed = (
                "enum" in schema
                or "const" in schema
                or schema.get("format") in {"date-time", "date"}
            )
            if not closed and not ruled:
                unruled.append(where)
        for name, sub in schema.get("properties", {}).items():
            walk(sub, f"{where}.{name}", seen)
        if isinstance(schema.get("items"), dict):
            walk(schema["items"], f"{where}[]", seen)

    for root in roots:
        walk(root, "body", frozenset())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter["in"] == "query":
                    walk(parameter["schema"], f"{method} {path} ?{parameter['name']}", frozenset())
    assert unruled == [], "\n".join(unruled)
