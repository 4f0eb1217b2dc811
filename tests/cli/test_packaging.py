"""The wheel production installs: one top-level package that carries its migrations and data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import asyncpg
import pytest

ROOT = Path(__file__).resolve().parents[2]
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "node_modules",
    ".asfmatch*",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "docs",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project built as a wheel, as `pip install .` would build it."""
    out = tmp_path_factory.mktemp("wheel")
    # Build from a clean copy: setuptools reuses a checkout's leftover build/ folder, which can
    # hold files that no longer exist (a renamed migration), and the wheel would carry them.
    source = tmp_path_factory.mktemp("source") / "asf-match"
    shutil.copytree(ROOT, source, symlinks=True, ignore=_NOT_SOURCE)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("asf_match-*.whl")
    return built


def test_the_wheel_installs_one_top_level_package_with_migrations_and_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {
        name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")
    }
    assert top_level == {"asfmatch"}
    sql_files = sorted(ROOT.joinpath("sql").glob("*.sql"))
    assert sql_files
    shipped = sorted(name for name in names if name.startswith("asfmatch/sql/"))
    assert shipped == [f"asfmatch/sql/{path.name}" for path in sql_files]
    # The pages ship their templates, catalogues, map and vendored scripts: nothing from a CDN.
    for packaged in (
        "asfmatch/web/templates/base.html",
        "asfmatch/web/templates/partials/map.html",
        "asfmatch/web/catalog/sv.toml",
        "asfmatch/web/catalog/en.toml",
        "asfmatch/web/data/sweden_lan.geojson",
        "asfmatch/web/static/htmx.min.js",
        "asfmatch/web/static/rapidoc-min.js",
        "asfmatch/web/static/site.css",
    ):
        assert packaged in names, packaged
    assert "asfmatch/reference/data/sweden_kommuner.csv" in names
    assert "asfmatch/data/demo.json" in names
    assert "asfmatch/notices/data/postal_to_kommun.csv" in names


@pytest.mark.slow
async def test_the_installed_wheel_migrates_an_empty_database(
    wheel: Path, empty_database: str, redis_url: str, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # Run from an empty folder with the installed copy first on the path, never the checkout.
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "DATABASE_URL": empty_database,
        "REDIS_URL": redis_url,
        "ASFMATCH_DATA_DIR": str(tmp_path / "data"),
    }
    where = subprocess.run(
        [sys.executable, "-c", "import asfmatch; print(asfmatch.__file__)"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip().startswith(str(site))
    result = subprocess.run(
        [sys.executable, "-m", "asfmatch", "migrate"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    connection = await asyncpg.connect(empty_database)
    try:
        applied = await connection.fetchval("SELECT count(*) FROM schema_migrations")
        tables = await connection.fetchval(
            "SELECT count(*) FROM pg_tables WHERE tablename IN ('needs', 'supplier_profiles', 'jobs')"
        )
    finally:
        await connection.close()
    assert applied == len(list(ROOT.joinpath("sql").glob("*.sql")))
    assert tables == 3
