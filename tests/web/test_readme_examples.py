"""The README's curl examples, run as written against a running demo, so they cannot drift."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from web_testkit import RunningDemo

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("curl") is None or shutil.which("jq") is None,
        reason="the README examples need curl and jq (apt-get install -y curl jq)",
    ),
]


def readme_api_examples() -> str:
    """The shell block under "## API overview"."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## API overview", 1)[1]
    found = re.search(r"```sh\n(.*?)```", section, re.S)
    assert found, "the API overview has no sh block"
    return found.group(1)


async def test_the_readme_curl_examples_work_against_the_demo(demo: RunningDemo) -> None:
    script = readme_api_examples()
    # The reader pastes their own key and address over the two placeholders.
    script = script.replace("KEY=asfm_…", f"KEY={demo.admin_key}", 1)
    script = script.replace("API=http://127.0.0.1:8000/api/v1", f"API={demo.url}/api/v1", 1)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script + '\necho "NEED=$NEED_ID"'],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert re.search(r"NEED=\d+", result.stdout)
    assert '"need_id"' in result.stdout
    assert "Städning" in result.stdout or "städning" in result.stdout
