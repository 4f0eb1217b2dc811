"""The pages' own files (styles, htmx, the API docs renderer), served from the package so the
site works with the network cut. Only files lying directly in web/static are served, found by
exact name in the folder's listing, so no path can reach anything else."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

from litestar import Response, get
from litestar.params import FromPath

from asfmatch.web.errors import PageError

STATIC_PREFIX = "/static/web"

MEDIA_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")


@cache
def _files() -> dict[str, bytes]:
    folder = files("asfmatch.web").joinpath("static")
    return {entry.name: entry.read_bytes() for entry in folder.iterdir() if entry.is_file()}


@get(f"{STATIC_PREFIX}/{{name:str}}", include_in_schema=False, name="web:static")
async def static_file(name: FromPath[str]) -> Response[bytes]:
    """One file by its exact name; 404 for anything else."""
    dot = name.rfind(".")
    media_type = MEDIA_TYPES.get(name[dot:].lower()) if dot > 0 else None
    body = _files().get(name) if _SAFE_NAME.match(name) else None
    if media_type is None or body is None:
        raise PageError(404, "error.not_found")
    return Response(
        body,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
