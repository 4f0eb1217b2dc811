"""`asfmatch serve`'s last step: the HTTP API behind the production server configuration (the
one place besides the demo where the CLI touches the API, and only to serve it)."""

from __future__ import annotations

from asfmatch.api.server import run, server_config
from asfmatch.services.match_index import prepare_ranking
from asfmatch.storage.settings import Settings


def serve_api(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve `asfmatch.api.asgi:app` (each worker process builds it from the environment)."""
    # Here, once, so the worker processes load the compiled loops from numba's disk cache.
    prepare_ranking()
    run(server_config("asfmatch.api.asgi:app", settings, host=host, port=port, workers=workers))
