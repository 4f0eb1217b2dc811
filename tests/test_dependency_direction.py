"""Dependencies go one way: api, workers and the CLI call services; services call matching and
storage; matching does no I/O at all. Read from the source (ast), so a stray import fails here
rather than in review."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Modules that talk to the network, the disk's servers or other processes.
IO_MODULES = {
    "aiosmtplib",
    "anyio",
    "asyncio",
    "asyncpg",
    "http",
    "httpx",
    "litestar",
    "redis",
    "socket",
    "ssl",
    "subprocess",
    "urllib",
    "uvicorn",
}
# The CLI builds the HTTP app only to serve it.
CLI_MAY_IMPORT_API = frozenset({"demo.py", "serving.py"})


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in a file, nested ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def _violations(
    folder: str, refused: set[str], skip: frozenset[str] = frozenset(), root: Path = SRC
) -> list[str]:
    """Imports of `refused` modules (or their submodules) in the folder's own files; the links
    in src/asfmatch to the other folders are not followed."""
    found = []
    own = (root / folder).resolve()
    for path in sorted((root / folder).rglob("*.py")):
        if path.name in skip or not path.resolve().is_relative_to(own):
            continue
        for line, module in _imports(path):
            parts = module.split(".")
            names = {parts[0], ".".join(parts[:2])}
            if names & refused:
                found.append(f"{path.relative_to(root)}:{line} imports {module}")
    return found


def test_the_source_tree_is_where_the_rules_look():
    """Guards the test itself: a moved folder would make every rule below pass vacuously."""
    for folder in ("api", "services", "storage", "matching", "workers", "asfmatch", "notices"):
        assert list((SRC / folder).glob("*.py")), folder


def test_matching_does_no_io():
    refused = IO_MODULES | {
        "asfmatch.api",
        "asfmatch.services",
        "asfmatch.storage",
        "asfmatch.workers",
    }
    assert _violations("matching", refused) == []


@pytest.mark.parametrize("folder", ["services", "storage", "matching", "workers", "notices"])
def test_only_the_http_edges_import_the_api_or_the_pages(folder):
    assert _violations(folder, {"asfmatch.api", "asfmatch.web", "litestar"}) == []


def test_storage_knows_nothing_of_services_or_workers():
    assert _violations("storage", {"asfmatch.services", "asfmatch.workers"}) == []


def test_services_do_not_reach_up_into_workers():
    assert _violations("services", {"asfmatch.workers"}) == []


def test_the_notice_importer_is_a_service_below_workers_and_the_api():
    """asfmatch.notices is called by the CLI, the worker and the API; it calls services."""
    assert _violations("notices", {"asfmatch.workers", "asfmatch.api"}) == []


def test_the_cli_calls_services_not_the_api():
    refused = {"asfmatch.api", "asfmatch.web"}
    assert _violations("asfmatch", refused, skip=CLI_MAY_IMPORT_API) == []


def test_the_rules_catch_an_offending_import(tmp_path):
    """A planted `from asfmatch.api...` in services is reported, with its line."""
    planted = tmp_path / "services"
    planted.mkdir()
    (planted / "bad.py").write_text("import os\n\nfrom asfmatch.api.errors import ApiError\n")
    assert _violations("services", {"asfmatch.api"}, root=tmp_path) == [
        "services/bad.py:3 imports asfmatch.api.errors"
    ]
