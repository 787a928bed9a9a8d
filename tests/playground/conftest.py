"""One playground per session (the demo company, the Slack stand-in, the real app, the page), and a real
headless Chromium driving the page through Selenium. Each test works on loads of its own reason."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from playground.runtime import Playground
from services.diagnosis.problems import list_problems
from tests.waiting import wait_for  # noqa: F401 (the tests import it from here)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="session")
def playground() -> Iterator[Playground]:
    with Playground(port=0) as running:
        yield running


def load_with(playground: Playground, reason: str, pick: Callable[[Any], bool] = lambda p: True) -> str:
    """The number of an open problem load whose only reason is ``reason``."""
    for problem in list_problems(playground.env.services.engine):
        if [r.code for r in problem.reasons] == [reason] and pick(problem):
            return problem.load_number
    raise AssertionError(f"no open load with {reason}")


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser tests save their screenshots: QBSYNC_SCREENSHOTS, else a temporary folder."""
    wanted = os.environ.get("QBSYNC_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Without chromium the browser tests skip, saying so; with ``QBSYNC_REQUIRE_BROWSER`` (CI) they fail."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        why = f"chromium and chromedriver are not installed ({CHROMIUM}, {CHROMEDRIVER}): " + (
            "apt-get install -y chromium chromium-driver"
        )
        if os.environ.get("QBSYNC_REQUIRE_BROWSER"):
            pytest.fail(f"QBSYNC_REQUIRE_BROWSER is set but {why}")
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,860",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(15)
    try:
        yield driver
    finally:
        driver.quit()
