"""The scripts run the way the docs and the Makefile show them: `sh scripts/NAME.sh ...`."""
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(p.name for p in (REPO / "scripts").glob("*.sh"))


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_parses_under_sh(name):
    """Every script is POSIX sh, or re-executes itself with bash before any bash-only line."""
    r = subprocess.run(["sh", "-n", str(REPO / "scripts" / name)], capture_output=True, text=True)
    text = (REPO / "scripts" / name).read_text()
    if r.returncode != 0:
        first = text.splitlines()[0]
        assert first == "#!/bin/bash", (name, r.stderr)
        assert 'exec bash "$0" "$@"' in text, f"{name} is bash-only and does not re-exec itself: {r.stderr}"


@pytest.mark.parametrize("name", ["mariadb.sh", "webserver.sh"])
@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_bash_script_run_with_sh_gives_its_usage(name, shell):
    r = subprocess.run([shell, f"scripts/{name}", "bogus", "/nonexistent-dir"], cwd=REPO,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "usage:" in r.stderr, r.stderr
    assert "Illegal option" not in r.stderr and "not found" not in r.stderr, r.stderr
    assert not Path("/nonexistent-dir").exists()


def test_docs_name_scripts_that_exist():
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for m in re.finditer(r"\bscripts/([a-z][\w.-]*)", doc.read_text()):
            assert (REPO / "scripts" / m.group(1)).exists(), f"{doc.name} names scripts/{m.group(1)}"
