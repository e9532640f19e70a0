"""A real headless Chromium for the report tests, installed from Debian when absent."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"


def _install() -> str | None:
    """Install Debian's chromium and chromium-driver; why not, or None when done."""
    if shutil.which("apt-get") is None:
        return "apt-get is not available to install Debian's chromium and chromium-driver"
    if os.geteuid() != 0:
        return "installing chromium and chromium-driver needs root (apt-get)"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    command = ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:  # package lists may be missing on a fresh machine
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env)
        done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return f"apt-get could not install chromium: {done.stderr.strip()[-300:]}"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Yield a headless Chromium driven by selenium through Debian's chromedriver."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        why = _install()
        if why is not None:
            pytest.skip(f"no headless browser for the report test: {why}")
    options = webdriver.ChromeOptions()
    # The machine's network is closed: Chromium must not try to reach anything itself.
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,1600"):
        options.add_argument(flag)
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
