"""The HTML report in a real browser: it loads with no error and no request outside the file.

Uses Debian's chromium, headless (.ci/run installs it); elsewhere the test skips. The
screenshot is kept under the test's temporary directory (and copied to
$ARCHSCOPE_SCREENSHOTS when that is set, for a person to look at).
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archscope.cli import app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# As the machine's own probe starts it: no sandbox as root, no network chatter from the browser itself.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0",
]  # fmt: skip


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed here (.ci/run installs it)")
def test_the_html_report_loads_in_a_browser_without_errors(tmp_path):
    page = tmp_path / "googlenet.html"
    result = CliRunner().invoke(app, ["report", "googlenet", "-o", str(page)])
    assert result.exit_code == 0, result.output
    url = page.resolve().as_uri()

    dom = chromium(tmp_path / "profile-dom", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<h1>googlenet</h1>" in dom.stdout
    assert dom.stdout.count("<img") >= 2 and "data:image/png;base64," in dom.stdout

    shot = tmp_path / "report.png"
    run = chromium(tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1200,2400", url)
    assert run.returncode == 0, run.stderr[-2000:]
    log = dom.stderr + run.stderr
    for sign in ("Uncaught", "ERR_FILE_NOT_FOUND", "Failed to load resource", "Refused to"):
        assert sign not in log, log[-2000:]
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("ARCHSCOPE_SCREENSHOTS"):
        shutil.copy(shot, Path(os.environ["ARCHSCOPE_SCREENSHOTS"]) / "report.png")
