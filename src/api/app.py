"""The application factory: settings in, a Litestar app out, nothing done at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RapidocRenderPlugin

from asfmatch.api.allow_header import CompleteAllow
from asfmatch.api.errors import EXCEPTION_HANDLERS
from asfmatch.api.health import health, ready
from asfmatch.api.limits import RequestLimits
from asfmatch.api.matches import MatchController
from asfmatch.api.needs import NeedController
from asfmatch.api.notices import NoticeClaimController
from asfmatch.api.notifications import NotificationController
from asfmatch.api.openapi_truth import SECURITY, document_errors, openapi_components
from asfmatch.api.organisations import MeController, OrganisationController
from asfmatch.api.outcomes import OutcomeController
from asfmatch.api.potential import PotentialController
from asfmatch.api.principals import Principals
from asfmatch.api.reference import ReferenceController
from asfmatch.api.reports import ReportController
from asfmatch.api.retry import CONFLICT_HANDLERS, TransactionRetry
from asfmatch.api.state import AppResources, provide_connection, provide_principal, provide_reader
from asfmatch.api.suppliers import SupplierController
from asfmatch.api.verifications import VerificationController
from asfmatch.api.webhooks import WebhookController
from asfmatch.services.match_index import IndexKeeper
from asfmatch.services.needs import need_writer
from asfmatch.services.validation import load_reference_data
from asfmatch.storage.cache import (
    MatchCache,
    NeedsListCache,
    RateLimiter,
    RedisGate,
    create_redis,
)
from asfmatch.storage.db import create_pool
from asfmatch.storage.list_versions import ListVersions
from asfmatch.storage.servers import running_servers
from asfmatch.storage.settings import Settings
from asfmatch.storage.stream_hub import StreamHub
from asfmatch.web.rendering import template_config
from asfmatch.web.site import handle_http_outside_routes, web_router

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> Litestar:
    """Build the API. The lifespan opens PostgreSQL and Redis (embedded if no URL is set)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with running_servers(settings) as servers:
            pool = await create_pool(servers.database_url, settings, light_reset=True)
            versions: ListVersions | None = None

            def new_redis_connection() -> None:
                if versions is not None:
                    versions.distrust()

            client = create_redis(servers.redis_url, settings, new_redis_connection)
            gate = RedisGate(client, settings)
            hub = StreamHub(servers.database_url, pool)
            cache = MatchCache(gate)
            needs_list = NeedsListCache(gate)
            versions = ListVersions(cache, needs_list, hub)
            writer = need_writer(pool, settings.db_acquire_timeout)
            load_reference_data()
            await hub.start()
            versions.start()
            app.state["resources"] = AppResources(
                settings=settings,
                servers=servers,
                pool=pool,
                redis=gate,
                cache=cache,
                needs_list=needs_list,
                lists=versions,
                limiter=RateLimiter(gate),
                streams=hub,
                principals=Principals(hub),
                potential_index=IndexKeeper(settings.reserved_requires_verification),
                need_writer=writer,
            )
            try:
                yield
            finally:
                await writer.close()
                await versions.stop()
                await hub.stop()
                await client.aclose()
                await pool.close()

    # Unknown paths outside the API get a page, not JSON.
    handlers: dict[Any, Any] = {
        **EXCEPTION_HANDLERS,
        **CONFLICT_HANDLERS,
        HTTPException: handle_http_outside_routes,
    }
    return Litestar(
        route_handlers=[
            health,
            ready,
            OrganisationController,
            MeController,
            SupplierController,
            VerificationController,
            NeedController,
            NoticeClaimController,
            PotentialController,
            MatchController,
            ReferenceController,
            NotificationController,
            WebhookController,
            OutcomeController,
            ReportController,
            web_router(),
        ],
        dependencies={
            "db": Provide(provide_connection),
            "reader": Provide(provide_reader),
            "principal": Provide(provide_principal),
        },
        lifespan=[lifespan],
        template_config=template_config(),
        # Outermost first: a replayed request is counted once by the rate limits.
        middleware=[RequestLimits(), TransactionRetry(), CompleteAllow()],
        exception_handlers=handlers,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="asf-match",
            version="1",
            description=(
                "Matchmaking between Swedish work-integration social enterprises (ASF) and "
                "public buyers. Authenticate with `Authorization: Bearer <api key>`."
            ),
            path="/schema",
            components=openapi_components(),
            security=SECURITY,
            # Served from the package: the docs must render with the network cut.
            render_plugins=[
                RapidocRenderPlugin(
                    js_url="/static/web/rapidoc-min.js",
                    path="/",
                    favicon='<link rel="icon" href="/static/web/favicon.svg">',
                )
            ],
        ),
        on_startup=[document_errors],
        debug=False,
    )
