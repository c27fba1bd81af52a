"""`make browser` and the browser fixture: Playwright's Chromium, else the system's, else a
clear message of what to install."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.browser.browsers import INSTALL_HINT, NoChromium, chromium_executable
from tests.support import BASE_DIR


class Installed:
    """What the tests read of Playwright: where its own Chromium is, or would be."""

    def __init__(self, path):
        self.chromium = type("Chromium", (), {"executable_path": str(path)})()


@pytest.fixture
def system_chromium(tmp_path, monkeypatch):
    folder = tmp_path / "bin"
    folder.mkdir()
    binary = folder / "chromium"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.delenv("CHROMIUM", raising=False)
    return binary


def test_playwrights_own_chromium_comes_first(tmp_path, system_chromium):
    own = tmp_path / "ms-playwright" / "chrome"
    own.parent.mkdir()
    own.write_text("")
    assert chromium_executable(Installed(own)) is None


def test_the_systems_chromium_when_playwright_has_none(tmp_path, system_chromium):
    assert chromium_executable(Installed(tmp_path / "missing")) == str(system_chromium)


def test_chromium_named_in_the_environment_wins(tmp_path, system_chromium, monkeypatch):
    monkeypatch.setenv("CHROMIUM", str(system_chromium))
    own = tmp_path / "chrome"
    own.write_text("")
    assert chromium_executable(Installed(own)) == str(system_chromium)
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "nothing-here"))
    with pytest.raises(NoChromium, match="is not an executable"):
        chromium_executable(Installed(own))


def test_no_browser_at_all_says_what_to_install(tmp_path, system_chromium):
    system_chromium.unlink()
    with pytest.raises(NoChromium) as missing:
        chromium_executable(Installed(tmp_path / "missing"))
    assert str(missing.value) == INSTALL_HINT
    for remedy in ("playwright install chromium", "apt-get install chromium", "CHROMIUM="):
        assert remedy in INSTALL_HINT


def _browsers(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.browser.browsers"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_browser_check_launches_the_chromium_it_finds_and_fails_clearly_without_one(
    tmp_path,
):
    environment = {key: value for key, value in os.environ.items() if key != "CHROMIUM"}
    found = _browsers(environment)
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith("Browser tests use Chromium ")
    nothing = _browsers(
        {**environment, "PATH": str(tmp_path), "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path)}
    )
    assert nothing.returncode == 1
    assert INSTALL_HINT in nothing.stderr
