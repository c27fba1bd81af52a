"""Which Chromium the browser tests drive, and `make browser`, which makes sure there is one.

In order: the binary named by CHROMIUM; Playwright's own Chromium, when it has been
downloaded (`playwright install chromium` needs no root); the system's (chromium,
chromium-browser, google-chrome). Nothing here installs system packages: with no browser
at all, `make browser` says what to install and fails.

    python -m tests.browser.browsers          # which one the tests will use
    python -m tests.browser.browsers --install  # download Playwright's if it can, then say
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Playwright, sync_playwright

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SYSTEM_CHROMIUMS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# A download that failed (no network, a proxy) is not tried again on every `make test`.
DOWNLOAD_FAILED = BASE_DIR / "var" / "playwright-download-failed"
DOWNLOAD_RETRY_SECONDS = 24 * 3600

INSTALL_HINT = """No Chromium for the browser tests. Any one of these will do:
  - Playwright's own (no root): .venv/bin/playwright install chromium
    (on Linux it may also need system libraries: sudo .venv/bin/playwright install-deps chromium)
  - the system's: sudo apt-get install chromium (Debian, Ubuntu), sudo dnf install chromium
    (Fedora), brew install --cask chromium (macOS)
  - any Chromium or Chrome binary: CHROMIUM=/path/to/chrome make test"""


class NoChromium(Exception):
    pass


def chromium_executable(playwright: Playwright) -> str | None:
    """The binary to launch: a path, or None for Playwright's own Chromium."""
    chosen = os.environ.get("CHROMIUM")
    if chosen:
        if not shutil.which(chosen):
            raise NoChromium(f"CHROMIUM={chosen} is not an executable.\n\n{INSTALL_HINT}")
        return chosen
    if Path(playwright.chromium.executable_path).exists():
        return None
    for name in SYSTEM_CHROMIUMS:
        found = shutil.which(name)
        if found:
            return found
    raise NoChromium(INSTALL_HINT)


def launch(playwright: Playwright):
    return playwright.chromium.launch(
        executable_path=chromium_executable(playwright), args=CHROMIUM_FLAGS
    )


def _download() -> None:
    if DOWNLOAD_FAILED.exists() and time.time() - DOWNLOAD_FAILED.stat().st_mtime < (
        DOWNLOAD_RETRY_SECONDS
    ):
        print(f"Not downloading Playwright's Chromium: it failed lately ({DOWNLOAD_FAILED}).")
        return
    print("Downloading Playwright's Chromium (no root needed)...", flush=True)
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "playwright", "install", "chromium"],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        failed = finished.returncode != 0
        reason = (finished.stderr or finished.stdout).strip().splitlines()[:1]
    except subprocess.TimeoutExpired:
        failed, reason = True, ["timed out"]
    if failed:
        DOWNLOAD_FAILED.parent.mkdir(exist_ok=True)
        DOWNLOAD_FAILED.write_text("\n".join(reason))
        print(f"Playwright could not download its Chromium ({' '.join(reason)}).")
    else:
        DOWNLOAD_FAILED.unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="The Chromium the browser tests use.")
    parser.add_argument(
        "--install", action="store_true", help="download Playwright's Chromium if missing"
    )
    options = parser.parse_args()
    with sync_playwright() as playwright:
        own = Path(playwright.chromium.executable_path).exists()
        if options.install and not own and not os.environ.get("CHROMIUM"):
            _download()
        try:
            browser = launch(playwright)
        except NoChromium as missing:
            print(missing, file=sys.stderr)
            return 1
        except PlaywrightError as error:
            print(f"Chromium would not start: {error}\n\n{INSTALL_HINT}", file=sys.stderr)
            return 1
        version = browser.version
        browser.close()
        executable = chromium_executable(playwright) or "Playwright's own"
    print(f"Browser tests use Chromium {version}: {executable}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
