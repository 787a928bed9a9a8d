"""The playground in a real headless Chromium: a person types ``/qbsync <load>``, reads the diagnosis,
presses the fix buttons, answers modals and confirm dialogs, opens the App Home and runs the digest —
and the real app, through the Slack stand-in, answers on the page. Screenshots of each step are saved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select
from sqlmodel import Session, select

from services.diagnosis.problems import list_problems
from services.store.models import FixAudit, Load
from tests.playground.conftest import load_with, wait_for

pytestmark = pytest.mark.browser

NUMBERING = "Turn on custom invoice numbers"


class Page:
    """The playground page as a person uses it."""

    def __init__(self, driver, playground, screenshots) -> None:
        self.driver, self.playground, self.screenshots = driver, playground, screenshots

    def open(self) -> Page:
        self.driver.get(self.playground.url)
        wait_for(lambda: self.driver.find_element(By.TAG_NAME, "body").get_attribute("data-version"))
        return self

    def type(self, text: str) -> None:
        box = self.driver.find_element(By.ID, "composer-input")
        box.send_keys(text, Keys.ENTER)

    def messages(self) -> list[dict[str, str]]:
        """Every message shown, as ``{"ts", "text"}`` (read in one go: the page re-renders as it goes)."""
        return self.driver.execute_script(
            "return [...document.querySelectorAll('#messages .msg')]"
            ".map(m => ({ts: m.dataset.ts, text: m.innerText}))"
        )

    def diagnosis(self, number: str) -> str:
        """Wait for the bot's diagnosis of ``number``; its message ts."""
        script = (
            "return [...document.querySelectorAll('#messages .msg')].reverse()"
            ".filter(m => [...m.querySelectorAll('.bk-header')]"
            ".some(h => h.innerText.includes(arguments[0])))"
            ".map(m => m.dataset.ts)[0]"
        )
        return wait_for(lambda: self.driver.execute_script(script, f"Load {number}"), what=number)

    def message(self, ts: str):
        return self.driver.find_element(By.CSS_SELECTOR, f'#messages .msg[data-ts="{ts}"]')

    def text(self, ts: str) -> str:
        script = (
            "const m = document.querySelector(`#messages .msg[data-ts='${arguments[0]}']`);"
            "return m && m.innerText"
        )
        return wait_for(lambda: self.driver.execute_script(script, ts), what="the message")

    def labels(self, ts: str) -> list[str]:
        script = (
            "const m = document.querySelector(`#messages .msg[data-ts='${arguments[0]}']`);"
            "return m ? [...m.querySelectorAll('button')].map(b => b.innerText.trim()) : []"
        )
        return self.driver.execute_script(script, ts)

    def has_button(self, ts: str, label: str) -> bool:
        return label in self.labels(ts)

    def press(self, ts: str, label: str) -> None:
        def click() -> bool:
            try:
                button = self.message(ts).find_element(By.XPATH, f".//button[normalize-space()='{label}']")
                self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
                button.click()
            except (NoSuchElementException, StaleElementReferenceException, ElementClickInterceptedException):
                return False  # the page re-rendered or scrolled under the pointer: find it again
            return True

        wait_for(click, what=f"the button {label}")

    def outcome(self, ts: str, *words: str) -> str:
        """Wait until the message says every one of ``words`` (and is no longer running)."""

        def said():
            text = self.text(ts)
            return text if all(w in text for w in words) and "started by" not in text else None

        return wait_for(said, what=f"{words} in the message")

    def confirm_dialog(self):
        return wait_for(
            lambda: self.driver.find_elements(By.CSS_SELECTOR, "#confirm-root .confirm"),
            what="a confirm dialog",
        )[0]

    def modal(self):
        """The open modal once its choices are shown (the page redraws it as the app fills it)."""

        def shown():
            try:
                return [
                    m
                    for m in self.driver.find_elements(By.CSS_SELECTOR, "#modal-root .modal")
                    if m.find_elements(By.CSS_SELECTOR, "[data-submit]")
                ]
            except StaleElementReferenceException:
                return None

        return wait_for(shown, what="the modal with its choices")[0]

    def modal_text(self) -> str:
        def read():
            try:
                return self.modal().text
            except StaleElementReferenceException:
                return None

        return wait_for(read, what="the modal's text")

    def in_modal(self, css: str, act: Callable[[Any], Any]) -> Any:
        """Find ``css`` in the open modal and ``act`` on it, again if the page redrew it meanwhile."""

        def attempt():
            try:
                return (act(self.modal().find_element(By.CSS_SELECTOR, css)),)
            except (StaleElementReferenceException, NoSuchElementException, ElementClickInterceptedException):
                return None

        return wait_for(attempt, what=f"{css} in the modal")[0]

    def no_modal(self) -> None:
        wait_for(
            lambda: not self.driver.find_elements(By.CSS_SELECTOR, "#modal-root .modal"), what="no modal"
        )

    def shot(self, name: str) -> None:
        settled = "return document.getAnimations().every(a => a.playState !== 'running')"
        wait_for(lambda: self.driver.execute_script(settled), what="the page to settle")
        self.driver.save_screenshot(str(self.screenshots / f"playground-{name}.png"))

    def turn_on_numbering(self, ts: str) -> None:
        """The demo company starts with custom invoice numbers off: the first diagnosis offers it first."""
        if self.has_button(ts, NUMBERING):
            self.press(ts, NUMBERING)
            self.confirm_dialog().find_element(By.CSS_SELECTOR, "[data-confirm-ok]").click()
            wait_for(lambda: not self.has_button(ts, NUMBERING) and "started by" not in self.text(ts))


@pytest.fixture
def page(browser, playground, screenshots) -> Page:
    playground.person.close_modal()  # a test that failed with a modal open must not block the next one
    return Page(browser, playground, screenshots).open()


def audits(playground, number: str) -> int:
    with Session(playground.env.services.engine) as session:
        return len(session.exec(select(FixAudit).where(FixAudit.load_number == number)).all())


def state_of(playground, number: str) -> str:
    with Session(playground.env.services.engine) as session:
        return session.exec(select(Load.state).where(Load.load_number == number)).one()


def test_duplicated_charge_codes_resynced_then_mapped_in_the_modal(page, playground):
    number = load_with(playground, "charge_codes_not_synced")
    page.type(f"/qbsync {number}")
    ts = page.diagnosis(number)
    assert "Charge codes are not synced to QuickBooks" in page.text(ts)
    assert "more than once" in page.text(ts)
    page.shot("01-diagnosis")
    page.turn_on_numbering(ts)

    page.press(ts, "Resync charge codes")
    page.outcome(ts, "Resync charge codes", "needs a choice")
    page.press(ts, "Map charge code")
    assert "STOR (Storage)" in page.modal_text()
    page.in_modal("select.bk-select", lambda el: Select(el).select_by_visible_text("Storage"))
    page.shot("02-map-charge-code-modal")
    page.in_modal("[data-submit]", lambda el: el.click())

    page.no_modal()
    text = page.outcome(ts, f"{number} synced")
    assert "Mapped STOR (Storage) to QuickBooks item" in text
    assert not [label for label in page.labels(ts) if label != "Retry"], "no fix left to press twice"
    page.shot("03-synced")
    assert state_of(playground, number) == "synced"


def test_duplicate_load_number_adopted_after_a_cancelled_confirm(page, playground):
    number = playground.story.sample.roles["copied_by_hand"]
    page.type(f"/qbsync {number}")
    ts = page.diagnosis(number)
    page.turn_on_numbering(ts)
    assert "already used by an invoice made by hand" in page.text(ts)

    text_before, audited = page.text(ts), audits(playground, number)
    page.press(ts, "Adopt QuickBooks invoice")
    dialog = page.confirm_dialog()
    assert "Adopt the manual invoice?" in dialog.text
    page.shot("04-adopt-confirm")
    dialog.find_element(By.CSS_SELECTOR, "[data-deny]").click()
    wait_for(lambda: not page.driver.find_elements(By.CSS_SELECTOR, "#confirm-root .confirm"))
    assert page.text(ts) == text_before
    assert audits(playground, number) == audited, "a cancelled confirm sends nothing to the app"
    assert state_of(playground, number) != "synced"

    page.press(ts, "Adopt QuickBooks invoice")
    page.confirm_dialog().find_element(By.CSS_SELECTOR, "[data-confirm-ok]").click()
    text = page.outcome(ts, f"{number} synced")
    assert "Adopt QuickBooks invoice" in text
    assert state_of(playground, number) == "synced"


def test_customer_email_corrected_in_the_modal(page, playground):
    number = load_with(playground, "customer_not_synced", lambda p: p.load_number.endswith("0409"))
    page.type(f"/qbsync {number}")
    ts = page.diagnosis(number)
    page.turn_on_numbering(ts)
    assert "customer is not synced" in page.text(ts).lower()

    page.press(ts, "Update QuickBooks email")
    suggested = page.in_modal("input[type=email]", lambda el: el.get_attribute("value"))
    assert suggested == "ap@blueharbor.example", "the email on the QuickBooks profile is offered"
    page.in_modal("input[type=email]", lambda el: (el.clear(), el.send_keys("ap at blueharbor")))
    page.in_modal("[data-submit]", lambda el: el.click())
    error = wait_for(
        lambda: page.driver.find_elements(By.CSS_SELECTOR, "#modal-root .bk-error"), what="the field's error"
    )[0]
    assert error.text
    page.shot("05-email-modal-error")
    assert state_of(playground, number) != "synced"

    page.in_modal("input[type=email]", lambda el: (el.clear(), el.send_keys(suggested)))
    page.in_modal("[data-submit]", lambda el: el.click())
    page.no_modal()
    page.outcome(ts, f"{number} synced")


def test_app_home_shows_the_open_problems(page, playground):
    page.driver.find_element(By.ID, "nav-home").click()
    script = "const h = document.querySelector('#home-view .home'); return h && h.innerText"

    def counted():
        text = page.driver.execute_script(script) or ""
        open_now = len(list_problems(playground.env.services.engine))
        return text if "Open problems" in text and f"{open_now} ·" in text else None

    home = wait_for(counted, what="the Home tab with today's counts")
    assert "Connected" in home
    page.shot("06-app-home")
    page.driver.find_element(By.ID, "nav-channel").click()


def test_todays_digest_posted_now(page, playground):
    before = len(page.messages())
    page.driver.find_element(By.ID, "run-digest").click()
    ts = wait_for(
        lambda: [m["ts"] for m in page.messages()[before:] if "digest" in m["text"].lower()],
        what="the digest",
    )[-1]
    assert "Invoice sync digest" in page.text(ts)
    chart = wait_for(
        lambda: page.driver.execute_script(
            "return [...document.querySelectorAll('#messages .file-image img')]"
            ".filter(i => i.complete && i.naturalWidth > 0).length"
        ),
        what="the digest's chart",
    )
    assert chart >= 1
    size = page.driver.get_window_size()
    page.driver.set_window_size(size["width"], 1500)  # the digest and its chart in one picture
    page.driver.execute_script("document.getElementById('toast').hidden = true")
    wait_for(
        lambda: page.driver.execute_script(
            "const l = document.getElementById('messages'); l.scrollTop = l.scrollHeight;"
            "return l.scrollHeight - l.scrollTop - l.clientHeight < 2"
        )
    )
    page.shot("07-digest")
    page.driver.set_window_size(size["width"], size["height"])
