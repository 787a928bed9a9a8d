"""Connecting QuickBooks in a real headless browser: Debian's chromium through chromedriver, driven by
Selenium, from an administrator's single-use ``/qbo/connect?ticket=…`` link through the emulator's
authorize page and back to "Connected to …" (the browser keeps the ``Secure`` cookie on 127.0.0.1 and
sends it with the callback); then the database holds only encrypted tokens. A forged state, a reused
answer, an answer replayed with a state of another browser and a used link show the error page.

Screenshots go to ``$QBSYNC_SCREENSHOTS`` (the README's are made with
``QBSYNC_SCREENSHOTS=docs/screenshots``), else to the test's temporary folder. Without chromium the
tests skip, saying so; CI installs it and sets ``QBSYNC_REQUIRE_BROWSER=1`` so they cannot skip there."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests

from services.connect.states import issue_ticket
from services.store.models import ConnectionState
from tests.builders import load as a_load
from tests.builders import tms
from tests.slack.conftest import ADMIN, TEAM, wait_for
from tests.slack.test_connect_web import (
    assert_no_token_in,
    database_bytes,
    issued_tokens,
    seed_company,
    stored,
)

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def _unavailable() -> str | None:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        return "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def browser():
    why = _unavailable()
    if why:
        if os.environ.get("QBSYNC_REQUIRE_BROWSER"):
            pytest.fail(f"QBSYNC_REQUIRE_BROWSER is set but {why}")
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=900,640")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(15)
    yield driver
    driver.quit()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("QBSYNC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def ticket_link(web) -> str:
    """The link the Connect modal shows an administrator (made when they press Connect QuickBooks)."""
    return f"{web.url}/qbo/connect?" + urlencode(
        {"ticket": issue_ticket(web.services.engine, f"slack:{TEAM}:{ADMIN}")}
    )


def heading(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "h1").text


def test_connect_in_the_browser(browser, make_web, engine, emu, shots, qbsync_logs):
    seed_company(emu, "Harbor Line Drayage")
    web = make_web()
    tms(engine, [a_load("L-1")])
    web.services.sync.sync_load("L-1", trigger="test")

    link = ticket_link(web)
    browser.get(link)
    assert heading(browser) == "Connected to Harbor Line Drayage"
    assert urlparse(browser.current_url).path == "/qbo/callback"
    browser.save_screenshot(str(shots / "connected.png"))

    row = stored(engine)
    assert row["state"] == ConnectionState.CONNECTED.value
    tokens = issued_tokens(emu)
    assert web.services.cipher.decrypt(row["access_token"]) in tokens
    logs = "\n".join(record.getMessage() for record in qbsync_logs.records)
    assert_no_token_in(tokens, database_bytes(web), logs, browser.page_source, str(dict(row)))
    wait_for(lambda: web.services.sync.current_result("L-1").state == "synced", what="L-1 retried")

    browser.get(link)  # the link works once
    assert heading(browser) == "Not connected" and "already used" in browser.page_source
    assert "Connect QuickBooks in Slack" in browser.page_source


def test_a_forged_state_and_a_reused_code_show_the_error_page(browser, make_web, engine, emu, shots):
    web = make_web()
    browser.get(f"{web.url}/qbo/callback?" + urlencode({"state": "forged", "code": "AB11x", "realmId": "1"}))
    assert heading(browser) == "Not connected"
    assert "not one qbsync started" in browser.page_source
    browser.save_screenshot(str(shots / "not-connected.png"))

    browser.get(ticket_link(web))
    assert heading(browser).startswith("Connected to")
    callback = browser.current_url
    before = stored(engine)
    browser.refresh()  # the same answer again
    assert heading(browser) == "Not connected" and "already used" in browser.page_source

    answer = requests.get(ticket_link(web), allow_redirects=False, timeout=5)  # another browser's state
    fresh = parse_qs(urlparse(answer.headers["Location"]).query)["state"][0]
    query = {k: v[0] for k, v in parse_qs(urlparse(callback).query).items()}
    browser.get(f"{web.url}/qbo/callback?" + urlencode({**query, "state": fresh}))
    assert heading(browser) == "Not connected"
    assert "started in another browser" in browser.page_source
    assert stored(engine) == before, "the stored connection is left as it was"
