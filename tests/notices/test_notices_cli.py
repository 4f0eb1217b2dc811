"""`asfmatch import-notices` as an operator runs it: folders, stdin, a report of every skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from testkit import run_asfmatch

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.slow
def test_import_notices_imports_the_sdk_examples_folder_skipping_each_with_a_reason(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    done = run_asfmatch(
        ["import-notices", str(FIXTURES / "eforms-sdk")], database_url, redis_url, tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "9 notice(s) in 9 document(s): 0 need(s) created" in done.stdout
    skipped = [line for line in done.stderr.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 9
    assert sum("not Swedish" in line for line in skipped) == 6
    assert all("[/*/" in line for line in skipped)


@pytest.mark.slow
def test_import_notices_reads_stdin_and_is_idempotent(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    raw = (FIXTURES / "se_cn_reserved_lulea.xml").read_bytes()
    env_args = ["import-notices", "-"]
    first = _run_with_stdin(env_args, raw, database_url, redis_url, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "1 need(s) created (1 reserved)" in first.stdout
    second = _run_with_stdin(env_args, raw, database_url, redis_url, tmp_path)
    assert "0 need(s) created (0 reserved), 0 updated, 1 unchanged" in second.stdout


def _run_with_stdin(
    args: list[str], raw: bytes, database_url: str, redis_url: str, data_dir: Path
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ASFMATCH_DATA_DIR": str(data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "asfmatch", *args],
        input=raw,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


def test_import_notices_without_paths_is_a_usage_error(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    done = run_asfmatch(["import-notices"], database_url, redis_url, tmp_path)
    assert done.returncode == 2
    assert "paths" in done.stderr
