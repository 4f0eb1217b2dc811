"""Fixtures the worker tests share."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from worker_testkit import NewSupplier

from testkit import Keys, post_supplier


@pytest.fixture
def new_supplier(
    client: AsyncTestClient,  # type: ignore[type-arg]
    keys: Keys,
) -> NewSupplier:
    """post_supplier through the test's app: `await new_supplier(name, profile)`."""

    async def make(name: str, profile: dict[str, Any]) -> tuple[int, dict[str, str]]:
        return await post_supplier(client, keys, name, profile)

    return make
