"""``qbsync playground --workspaces 2``: two Slack workspaces side by side, the app in distribution mode.
Each was installed with "Add to Slack", is connected to its own QuickBooks company and holds its own TMS
loads — the same load numbers on purpose. The same command typed in each pane answers from that
workspace's company only, and nothing of one ever shows in the other."""

from __future__ import annotations

import html
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from bot import ids
from playground import bayside
from playground.runtime import Playground
from playground.workspace import BAYSIDE, HARBOR
from services.diagnosis.problems import list_problems
from tests.playground.conftest import wait_for

# what only one of the two companies has: its people, its customers, its QuickBooks company
ONLY = {
    HARBOR.team: ["Harbor Line Drayage", "Alex Rivera", "Green Valley Food", "Atlas Home Imports"],
    BAYSIDE.team: ["Bayside Drayage", "Sam Okafor", "Redwood Furniture", "Delta Pacific Imports"],
}
OTHER = {HARBOR.team: BAYSIDE.team, BAYSIDE.team: HARBOR.team}


@pytest.fixture(scope="module")
def duo() -> Iterator[Playground]:
    with Playground(port=0, workspaces=2) as running:
        yield running


def state(duo: Playground, team: str) -> dict:
    answer = requests.get(duo.url + "api/state", params={"team": team}, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def post(duo: Playground, path: str, team: str, body: dict) -> dict:
    answer = requests.post(duo.url + path, json={**body, "team": team}, timeout=20)
    assert answer.status_code == 200, answer.text
    return answer.json()


def text_of(markup: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))


def everything_shown(duo: Playground, team: str) -> str:
    shown = state(duo, team)
    parts = [m["html"] for m in shown["messages"]]
    parts += [shown["home"]["html"]] if shown["home"] else []
    parts += [shown["modal"]["html"]] if shown["modal"] else []
    return text_of(" ".join(parts))


def answer_to(duo: Playground, team: str, text: str, contains: str) -> str:
    """Type ``/qbsync text`` in ``team``'s pane; the text of the app's answer that says ``contains``."""
    before = len(state(duo, team)["messages"])
    assert post(duo, "api/command", team, {"text": text})["ok"]

    def answered():
        for message in state(duo, team)["messages"][before:]:
            said = text_of(message["html"])
            if contains in said and f"/qbsync {text}" not in said:
                return said
        return None

    return wait_for(answered, 20, f"{contains} in {team}")


def assert_apart(duo: Playground) -> None:
    """Nothing that belongs to one workspace shows in the other's pane, nor lands in the other in Slack."""
    for team, other in OTHER.items():
        shown = everything_shown(duo, team)
        leaked = [word for word in ONLY[other] if word in shown]
        assert not leaked, f"{other}'s {leaked} shown in {team}"
        assert set(duo.slack.team(team).channels()) <= {duo.pane(team).seat.channel}, "its own channel only"


def test_each_workspace_installed_itself_and_has_its_own_company_and_storage(duo):
    services = duo.env.services
    assert duo.settings.distribution and duo.settings.slack_bot_token is None
    registry = services.registry
    harbor, bay = registry.get(HARBOR.team), registry.get(BAYSIDE.team)
    assert harbor.installed and bay.installed
    assert harbor.installed_by == HARBOR.user and bay.installed_by == BAYSIDE.user
    assert harbor.storage and bay.storage and harbor.storage != bay.storage
    assert harbor.realm_id == duo.env.emulator.realm_id and bay.realm_id == bayside.REALM_ID
    assert harbor.tms_key is None and bay.tms_key, "Bayside's loads came through its own TMS URL"
    for seat in duo.seats:
        (install,) = duo.slack.installs(seat.team)  # one "Add to Slack" each, through the stand-in
        assert install.user_id == seat.user and install.new_token
        assert duo.services_of(seat.team).connection.status().realm_id == registry.get(seat.team).realm_id
    harbor_loads = {p.load_number for p in list_problems(duo.services_of(HARBOR.team).engine)}
    bay_loads = {p.load_number for p in list_problems(duo.services_of(BAYSIDE.team).engine)}
    number = duo.story.sample.number
    assert bay_loads == {number(406), number(413)}
    assert len(harbor_loads) > 10 and number(406) not in harbor_loads and number(413) not in harbor_loads
    assert not list_problems(services.engine), "nothing in the deployment's own tables"


def test_the_same_load_number_answers_from_each_workspaces_own_company(duo):
    number = duo.story.sample.number(412)
    harbor = answer_to(duo, HARBOR.team, number, f"Load {number}")
    bay = answer_to(duo, BAYSIDE.team, number, f"Load {number}")
    assert "charge codes are not synced" in harbor.lower(), harbor
    assert "synced" in bay and "matches the load" in bay and "not synced" not in bay.lower(), bay
    assert_apart(duo)


def test_problems_are_each_workspaces_own(duo):
    number = duo.story.sample.number
    bay = answer_to(duo, BAYSIDE.team, "problems", "problem invoices")
    harbor = answer_to(duo, HARBOR.team, "problems", "problem invoices")
    assert "2 problem invoices" in bay and number(412) not in bay
    assert f"customer is not synced to QuickBooks — 1 load, $1,008.20 • {number(406)}" in bay
    assert f"Charge codes are not synced to QuickBooks — 1 load, $1,194.95 • {number(413)}" in bay
    harbor_open = len(list_problems(duo.services_of(HARBOR.team).engine))
    assert f"{harbor_open} problem invoices" in harbor and number(412) in harbor
    assert_apart(duo)


def test_each_app_home_is_its_workspaces_own_with_its_settings(duo):
    def home_of(team: str) -> str | None:
        home = state(duo, team)["home"]
        return home["html"] if home and "Settings" in home["html"] else None

    homes = {}
    for seat in duo.seats:
        assert post(duo, "api/home", seat.team, {})["ok"]
        homes[seat.team] = text_of(wait_for(lambda seat=seat: home_of(seat.team), 20, f"{seat.team}'s Home"))
    for seat in duo.seats:
        home = homes[seat.team]
        open_now = len(list_problems(duo.services_of(seat.team).engine))
        assert f"{open_now} ·" in home, f"{seat.team}'s own open problems"
        assert seat.user_name in home and "#billing" in home, "its administrator and digest channel"
    assert f"/tms/events/{duo.env.services.registry.get(BAYSIDE.team).tms_key}" in homes[BAYSIDE.team]
    for seat in duo.seats:  # each Home was published with its own workspace's token
        published = duo.slack.team(seat.team).calls("views.publish")
        assert published and all(call.token == duo.slack.team(seat.team).bot_token for call in published)
    assert_apart(duo)


def test_settings_saved_in_one_workspace_change_nothing_in_the_other(duo):
    registry = duo.env.services.registry
    harbor_before = registry.get(HARBOR.team).settings
    post(duo, "api/home", BAYSIDE.team, {})
    home = wait_for(lambda: duo.slack.team(BAYSIDE.team).home(BAYSIDE.user), 20, "Bayside's Home")
    edit = next(
        (block["block_id"], element)
        for block in home["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
        if element["action_id"] == ids.SETTINGS_EDIT
    )
    post(
        duo,
        "api/action",
        BAYSIDE.team,
        {"surface": "home", "action_id": ids.SETTINGS_EDIT, "block_id": edit[0], "value": edit[1]["value"]},
    )
    modal = wait_for(lambda: (s := state(duo, BAYSIDE.team))["modal"] and s["modal"]["html"], 20, "the modal")
    assert 'data-kind="timepicker"' in modal and 'data-kind="multi_users_select"' in modal
    assert state(duo, HARBOR.team)["modal"] is None, "the modal opens in Bayside's pane only"

    def value(kind: str, **chosen) -> dict:
        return {ids.SETTINGS_VALUE: {"type": kind, **chosen}}

    values = {
        ids.SETTINGS_CHANNEL_INPUT: value("conversations_select", selected_conversation=BAYSIDE.channel),
        ids.SETTINGS_TIME_INPUT: value("timepicker", selected_time="07:45"),
        ids.SETTINGS_ZONE_INPUT: value("plain_text_input", value="America/Los_Angeles"),
        ids.SETTINGS_FIXERS_INPUT: value("multi_users_select", selected_users=[]),
        ids.SETTINGS_ADMINS_INPUT: value("multi_users_select", selected_users=[BAYSIDE.user]),
    }
    answer = post(duo, "api/submit", BAYSIDE.team, {"values": values})
    assert answer["ok"] and answer["note"] == "", answer
    wait_for(lambda: registry.get(BAYSIDE.team).settings.get("digest_time") == "07:45", 20, "saved")
    assert registry.get(HARBOR.team).settings == harbor_before


def test_a_digest_is_posted_in_its_own_workspace_only(duo):
    harbor_before = len(duo.slack.team(HARBOR.team).messages(HARBOR.channel))
    answer = post(duo, "api/digest", BAYSIDE.team, {})
    assert answer["ok"] and "Posted the digest" in answer["note"] and "#billing" in answer["note"], answer
    digest = wait_for(
        lambda: [m for m in state(duo, BAYSIDE.team)["messages"] if "Invoice sync digest" in m["html"]],
        20,
        "Bayside's digest",
    )[-1]
    said = text_of(digest["html"])
    assert "2 problem invoices · $2,203.15 held up" in said, said
    assert duo.story.sample.number(406) in said and duo.story.sample.number(412) not in said
    assert len(duo.slack.team(HARBOR.team).messages(HARBOR.channel)) == harbor_before
    assert_apart(duo)


def test_the_page_shows_both_workspaces_and_names_them_in_every_call(duo):
    page = requests.get(duo.url, timeout=5)
    assert page.status_code == 200
    for seat in duo.seats:
        assert f'data-team="{seat.team}"' in page.text and seat.team_name in page.text
    assert 'id="messages"' not in page.text, "each pane has ids of its own"
    assert f"<code>/qbsync {duo.story.sample.number(412)}</code>" in page.text, "what to try on both sides"
    unknown = requests.post(duo.url + "api/command", json={"text": "help", "team": "T0NOBODY1"}, timeout=5)
    assert unknown.status_code == 404 and "no such workspace" in unknown.text
    assert requests.get(duo.url + "api/state", params={"team": "<x>"}, timeout=5).status_code == 404


def test_connect_quickbooks_on_the_page_reaches_the_workspaces_own_company(duo):
    bay = duo.services_of(BAYSIDE.team)
    bay.connection.disconnect()
    before = len(state(duo, BAYSIDE.team)["messages"])
    post(duo, "api/command", BAYSIDE.team, {"text": "status"})
    message = wait_for(
        lambda: next(
            (
                m
                for m in state(duo, BAYSIDE.team)["messages"][before:]
                if 'data-action-id="fix.connect"' in m["html"]
            ),
            None,
        ),
        20,
        "the Connect button",
    )
    connect = re.search(
        r'data-action-id="(fix\.connect)" data-block-id="([^"]*)" data-value="([^"]*)"', message["html"]
    )
    action = {"action_id": connect.group(1), "block_id": connect.group(2), "value": connect.group(3)}
    post(duo, "api/action", BAYSIDE.team, {"surface": "message", "ts": message["key"], **action})
    modal = wait_for(lambda: state(duo, BAYSIDE.team)["modal"], 20, "the connect modal")
    link = html.unescape(re.search(r'data-url="([^"]+)"', modal["html"]).group(1))
    assert link.startswith(duo.url + f"qbo/connect?ticket={BAYSIDE.team}.")
    opened = requests.get(link, allow_redirects=False, timeout=10)
    cookie = opened.headers["Set-Cookie"].split(";", 1)[0].partition("=")[2]
    consent = requests.get(opened.headers["Location"], allow_redirects=False, timeout=10)
    done = requests.get(consent.headers["Location"], cookies={"qbsync_connect": cookie}, timeout=20)
    assert done.status_code == 200 and "Bayside Drayage Inc." in done.text, done.text
    post(duo, "api/close", BAYSIDE.team, {})
    assert bay.connection.status().realm_id == bayside.REALM_ID
    assert duo.services_of(HARBOR.team).connection.status().realm_id == duo.env.emulator.realm_id


def test_qbsync_playground_workspaces_2_prints_what_to_try_and_stops_on_ctrl_c():
    qbsync = os.path.join(os.path.dirname(sys.executable), "qbsync")
    refused = subprocess.run([qbsync, "playground", "--workspaces", "3"], capture_output=True, text=True)
    assert refused.returncode == 2 and "--workspaces" in refused.stderr and "Traceback" not in refused.stderr
    process = subprocess.Popen(
        [qbsync, "playground", "--port", "0", "--workspaces", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        assert re.search(r"type /qbsync M\d{4}-0412 in both workspaces", line), line
        assert 'data-team="T0BAYSIDE2"' in requests.get(url, timeout=5).text
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "two workspaces" in err and "Stopped." in err and "Traceback" not in err


@pytest.mark.browser
def test_both_panes_in_a_browser_each_answering_from_its_own_company(duo, browser, screenshots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    number = duo.story.sample.number(412)
    browser.get(duo.url)
    wait_for(lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-version") == "ready")
    panes = browser.find_elements(By.CSS_SELECTOR, ".ws[data-team]")
    assert [p.get_attribute("data-team") for p in panes] == [HARBOR.team, BAYSIDE.team]
    for pane in panes:
        assert pane.is_displayed() and pane.size["width"] > 500, "side by side, each wide enough to read"
        pane.find_element(By.CSS_SELECTOR, '[data-part="composer-input"]').send_keys(
            f"/qbsync {number}", Keys.ENTER
        )

    def diagnosis(team: str) -> str | None:
        script = (
            "return [...document.querySelectorAll(`.ws[data-team='${arguments[0]}'] .msg`)].reverse()"
            ".filter(m => [...m.querySelectorAll('.bk-header')]"
            ".some(h => h.innerText.includes(arguments[1])))"
            ".map(m => m.innerText)[0]"
        )
        return browser.execute_script(script, team, f"Load {number}")

    harbor = wait_for(lambda: diagnosis(HARBOR.team), 20, "Harbor's answer")
    bay = wait_for(lambda: diagnosis(BAYSIDE.team), 20, "Bayside's answer")
    assert "Charge codes are not synced" in harbor and "matches the load" in bay
    texts = {p.get_attribute("data-team"): p.text for p in panes}
    assert "Bayside" not in texts[HARBOR.team] and "Harbor" not in texts[BAYSIDE.team]
    browser.save_screenshot(str(screenshots / "playground-08-two-workspaces.png"))

    panes[1].find_element(By.CSS_SELECTOR, ".nav-item[data-pane='home']").click()
    home = wait_for(
        lambda: (
            "Settings" in (t := panes[1].find_element(By.CSS_SELECTOR, '[data-part="home-view"]').text) and t
        ),
        20,
        "Bayside's Home",
    )
    assert "Sam Okafor" in home and "Alex Rivera" not in home
    assert panes[0].find_element(By.CSS_SELECTOR, '[data-part="channel"]').is_displayed(), "Harbor stays"
