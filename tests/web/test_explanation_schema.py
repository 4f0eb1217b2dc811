"""The match explanation is typed in the OpenAPI schema: terms, CPV links, filters with values."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient


async def test_openapi_describes_the_explanation_structure(client: AsyncTestClient[Any]) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    components = schema["components"]["schemas"]
    explanation = components["Explanation"]["properties"]
    assert set(explanation) >= {"text_score", "cpv_score", "terms", "cpv", "filters"}
    assert set(components["FilterCheck"]["properties"]) >= {"name", "passed", "outcome", "values"}
    assert "service_area" in components["FilterValues"]["properties"]
    assert set(components["CpvLink"]["properties"]) >= {"need_code", "supplier_code", "relation"}
    listing = schema["paths"]["/api/v1/needs/{need_id}/matches"]["get"]["responses"]["200"]
    assert "NeedMatches" in str(listing)
