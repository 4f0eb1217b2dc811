"""The live demo page: `/` serves the single page, `/static/<name>` its scripts, styles and map.

Only the files that lie directly in `api/static` are served, looked up by exact name in that
directory's listing, so no path (`..`, encoded or not, subfolders, dot files) can reach anything
else. Everything is local: the page must work on a conference network with no internet.
"""

from __future__ import annotations

import re
from importlib.resources import files
from importlib.resources.abc import Traversable

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

STATIC_PACKAGE = "asfmatch.api"
STATIC_FOLDER = "static"

# The media type of every kind of file the page uses; any other extension is not served.
# Litestar appends "; charset=utf-8" to text/* types itself.
MEDIA_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".geojson": "application/geo+json",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}

# One path segment: letters, digits, '-', '_' and dots, not starting with a dot.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")

# The page loads only its own files and talks only to its own origin. JavaScript may still set
# element.style properties (CSSOM), which CSP does not restrict.
_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_COMMON_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def static_dir() -> Traversable:
    """The packaged folder of the page's files."""
    return files(STATIC_PACKAGE).joinpath(STATIC_FOLDER)


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _find(name: str) -> Traversable | None:
    """The file called exactly `name` directly in the static folder, if it is one we serve."""
    if not _SAFE_NAME.match(name) or _extension(name) not in MEDIA_TYPES:
        return None
    for entry in static_dir().iterdir():
        if entry.name == name and entry.is_file():
            return entry
    return None


def _file_response(name: str, extra_headers: dict[str, str] | None = None) -> Response[bytes]:
    found = _find(name)
    if found is None:
        raise NotFoundException(detail="no such file of the demo page")
    return Response(
        found.read_bytes(),
        media_type=MEDIA_TYPES[_extension(name)],
        headers={**_COMMON_HEADERS, **(extra_headers or {})},
    )


@get(
    "/",
    summary="The live demo page (reads an admin key from the URL fragment #key=…)",
    include_in_schema=False,
    sync_to_thread=True,
)
def demo_page() -> Response[bytes]:
    """The single page shown on the projector."""
    return _file_response("index.html", {"Content-Security-Policy": _PAGE_POLICY})


@get(
    "/static/{name:path}",
    summary="The demo page's scripts, styles and map",
    include_in_schema=False,
    sync_to_thread=True,
)
def static_file(name: FromPath[str]) -> Response[bytes]:
    """One file of the page, by its exact name; 404 for anything else."""
    # Litestar hands over the decoded remainder with its leading slash ("/app.js").
    return _file_response(name[1:] if name.startswith("/") else name)


DEMO_PAGE_HANDLERS = [demo_page, static_file]
