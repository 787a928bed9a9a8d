"""The page's API against a running playground: what a person does reaches the real app as Slack would
send it (signed), what the app sends to the stand-in comes back as the page's state, live; the page and
its assets are local; and the playground can reach nothing but its own stand-ins."""

from __future__ import annotations

import html
import json
import os
import re
import signal
import subprocess
import sys
import threading

import pytest
import requests

from emulator.slack import post_to_app, slash_command_body
from playground.runtime import USER
from playground.safety import check_host, check_settings, playground_settings
from services.errors import ConfigurationError
from services.settings import load_settings
from tests.playground.conftest import load_with, wait_for


def state(playground) -> dict:
    return requests.get(playground.url + "api/state", timeout=5).json()


def post(playground, path: str, body: dict) -> dict:
    answer = requests.post(playground.url + path, json=body, timeout=20)
    assert answer.status_code == 200, answer.text
    return answer.json()


def newest(playground, contains: str, after: int = 0) -> dict:
    return wait_for(
        lambda: next(
            (m for m in reversed(state(playground)["messages"][after:]) if contains in m["html"]), None
        ),
        what=contains,
    )


def clickable(html: str) -> list[dict[str, str]]:
    found = re.findall(r'data-action-id="([^"]*)" data-block-id="([^"]*)"(?: data-value="([^"]*)")?', html)
    return [{"action_id": a, "block_id": b, "value": v} for a, b, v in found]


def button(message: dict, action_id: str) -> dict:
    return next(b for b in clickable(message["html"]) if b["action_id"] == action_id)


def test_the_page_and_its_assets_are_served_from_this_machine(playground):
    page = requests.get(playground.url, timeout=5)
    assert page.status_code == 200 and "#billing" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/") or a.startswith("data:") for a in assets), assets
    for asset in (a for a in assets if a.startswith("/")):
        served = requests.get(playground.url.rstrip("/") + asset, timeout=5)
        assert served.status_code == 200
        assert not re.search(r"https?://", served.text), f"{asset} reaches the network"


def test_help_is_the_acknowledgement_only_you_see(playground):
    before = len(state(playground)["messages"])
    assert post(playground, "api/command", {"text": "help"})["ok"]
    messages = state(playground)["messages"][before:]
    assert "/qbsync help" in messages[0]["html"] and "Alex Rivera" in messages[0]["html"]
    assert "Only visible to you" in messages[1]["html"] and "/qbsync problems" in messages[1]["html"]


def test_a_diagnosis_then_a_fix_behind_a_confirm_replaces_the_message(playground):
    number = load_with(playground, "customer_changed")
    before = len(state(playground)["messages"])
    post(playground, "api/command", {"text": number})
    message = newest(playground, f"Load {number}", before)
    assert "Only visible to you" not in message["html"], "a diagnosis is for the channel"
    assert playground.slack.calls("response_url"), "the app answered through the response_url"
    fix = button(message, "fix.push_customer_change")
    assert "data-confirm=" in message["html"]
    answer = post(
        playground, "api/action", {"surface": "message", "ts": message["key"], **fix, "kind": "button"}
    )
    assert answer["ok"]
    replaced = wait_for(
        lambda: next(
            (
                m
                for m in state(playground)["messages"]
                if m["key"] == message["key"] and "synced" in m["html"]
            ),
            None,
        ),
        what="the outcome",
    )
    assert replaced["rev"] != message["rev"] and "(edited)" in replaced["html"]


def test_a_modal_shows_the_apps_errors_and_closes_without_changing_anything(playground):
    number = load_with(playground, "qb_invoice_deleted")
    before = len(state(playground)["messages"])
    post(playground, "api/command", {"text": number})
    message = newest(playground, f"Load {number}", before)
    post(
        playground,
        "api/action",
        {"surface": "message", "ts": message["key"], **button(message, "fix.dismiss")},
    )
    modal = wait_for(
        lambda: (s := state(playground))["modal"] and "data-submit" in s["modal"]["html"] and s["modal"]
    )
    assert "Why?" in modal["html"] and 'data-kind="plain_text_input"' in modal["html"]
    answer = post(
        playground, "api/submit", {"values": {"dismiss_reason": {"reason": {"type": "plain_text_input"}}}}
    )
    assert answer["note"] == "errors"
    assert "Say why, in a few words." in state(playground)["modal"]["html"]
    post(playground, "api/close", {})
    assert state(playground)["modal"] is None
    assert load_with(playground, "qb_invoice_deleted") == number, "still an open problem, not dismissed"


def test_the_app_home_and_no_placeholder_anywhere(playground):
    assert post(playground, "api/home", {})["ok"]
    home = wait_for(lambda: state(playground)["home"], what="the Home tab")
    assert "qbsync status" in home["html"] and "Open problems" in home["html"]
    for text in ("problems", "status"):
        post(playground, "api/command", {"text": text})
    wait_for(lambda: "Open problems" in state(playground)["messages"][-1]["html"], what="the status")
    everything = state(playground)
    shown = [m["html"] for m in everything["messages"]] + [everything["home"]["html"]]
    assert not [h for h in shown if "bk-unknown" in h], "every block the bot sent is drawn"


def test_the_digest_is_posted_to_the_channel(playground):
    before = len(state(playground)["messages"])
    answer = post(playground, "api/digest", {})
    assert answer["ok"] and "Posted the digest" in answer["note"] and "(ts" not in answer["note"]
    newest(playground, "Invoice sync digest", before)
    chart = newest(playground, 'src="/files/', before)
    path = re.search(r'src="(/files/F\w+)"', chart["html"]).group(1)
    image = requests.get(playground.url.rstrip("/") + path, timeout=5)
    assert image.headers["Content-Type"] == "image/png" and image.content.startswith(b"\x89PNG")


def test_the_event_stream_says_when_something_changed(playground):
    stream = requests.get(playground.url + "api/events", stream=True, timeout=10)
    lines = stream.iter_lines(decode_unicode=True)
    first = next(json.loads(line[6:]) for line in lines if line.startswith("data: "))
    threading.Timer(0.2, lambda: post(playground, "api/command", {"text": "help"})).start()
    second = next(json.loads(line[6:]) for line in lines if line.startswith("data: "))
    stream.close()
    assert second["version"] > first["version"]


def test_only_json_from_this_machine_drives_the_page(playground):
    form = requests.post(playground.url + "api/command", data={"text": "help"}, timeout=5)
    assert form.status_code == 415
    rebound = requests.get(playground.url + "api/state", headers={"Host": "evil.example"}, timeout=5)
    assert rebound.status_code == 403
    for text in ({"a": 1}, 123, ["help"], None):
        odd = requests.post(playground.url + "api/command", json={"text": text}, timeout=5)
        assert odd.status_code == 400 and "text" in odd.text, (text, odd.status_code)


def test_requests_to_the_app_are_signed_as_slack_signs_them(playground):
    body = slash_command_body("/qbsync", "help", user_id=playground.user, channel_id=playground.channel)
    assert post_to_app(playground.events_url, body, "not the secret")[0] == 401
    assert post_to_app(playground.events_url, body, playground.secret)[0] == 200


def test_the_playground_reaches_only_its_own_stand_ins(playground):
    settings = playground.settings
    assert settings.slack_api_url == playground.slack.api_url
    assert settings.qbo_api_base_url.startswith("http://127.0.0.1:")
    assert settings.database_url.startswith("sqlite:///")
    real = load_settings(
        DATABASE_URL="sqlite:///x.db",
        QBO_API_BASE_URL="https://quickbooks.api.intuit.com/v3",
        INTUIT_DISCOVERY_URL="https://developer.api.intuit.com/.well-known/openid_configuration",
        SLACK_API_URL="https://slack.com/api/",
    )
    emulator = playground.env.emulator.url
    with pytest.raises(ConfigurationError, match="QuickBooks emulator only"):
        check_settings(real, emulator_url=emulator, slack_api_url=playground.slack.api_url)
    pointed = playground_settings(
        settings.model_copy(update={"slack_api_url": "https://slack.com/api/"}),
        slack_api_url=playground.slack.api_url,
        bot_token="xoxb-x",
        user="U1",
        channel="C1",
    )
    assert pointed.slack_api_url == playground.slack.api_url, "the environment cannot point it at Slack"
    with pytest.raises(ConfigurationError, match="Slack stand-in only"):
        check_settings(settings, emulator_url=emulator, slack_api_url="https://slack.com/api/")
    with pytest.raises(ConfigurationError, match="this machine only"):
        check_host("0.0.0.0")


def test_qbsync_playground_prints_the_url_and_stops_on_ctrl_c():
    qbsync = os.path.join(os.path.dirname(sys.executable), "qbsync")
    process = subprocess.Popen(
        [qbsync, "playground", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        assert requests.get(url, timeout=5).status_code == 200
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Stopped." in err and "Traceback" not in err


def test_a_diagnose_button_in_the_app_home_opens_the_diagnosis_in_a_modal(playground):
    assert post(playground, "api/home", {})["ok"]
    home = wait_for(lambda: playground.slack.home(USER), what="the Home tab")
    buttons = [
        (block.get("block_id"), element)
        for block in home["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
        if element["action_id"].startswith("qbsync.diagnose")
    ]
    assert buttons, "the oldest problems have Diagnose buttons"
    block_id, button = buttons[0]
    answer = post(
        playground,
        "api/action",
        {"surface": "home", "action_id": button["action_id"], "block_id": block_id, "value": button["value"]},
    )
    assert answer["ok"]
    modal = wait_for(lambda: (m := playground.screen.modal()) and "To fix it" in str(m.get("blocks")) and m)
    assert button["value"] in str(modal["blocks"]), "the modal is filled with the load's diagnosis"
    assert post(playground, "api/close", {})["ok"]
    wait_for(lambda: playground.screen.modal() is None, what="the modal to close")


def test_connect_quickbooks_opens_a_single_use_link_that_connects_through_the_playground(playground):
    services = playground.env.services
    realm = services.connection.status().realm_id
    services.connection.disconnect()
    before = len(state(playground)["messages"])
    post(playground, "api/command", {"text": "status"})
    message = newest(playground, 'data-action-id="fix.connect"', before)  # the answer, not the typed command
    connect = button(message, "fix.connect")
    assert connect["value"] and "data-url" not in message["html"], "no link in the message"
    post(playground, "api/action", {"surface": "message", "ts": message["key"], **connect})
    modal = wait_for(lambda: (s := state(playground))["modal"] and s["modal"], what="the connect modal")
    assert "Continue to QuickBooks" in modal["html"] and "works once, for 10 minutes" in modal["html"]
    link = html.unescape(re.search(r'data-url="([^"]+)"', modal["html"]).group(1))
    assert link.startswith(playground.url + "qbo/connect?ticket=")
    opened = requests.get(link, allow_redirects=False, timeout=5)
    assert opened.status_code == 302, opened.text
    cookie = opened.headers["Set-Cookie"].split(";", 1)[0].partition("=")[2]
    consent = requests.get(opened.headers["Location"], allow_redirects=False, timeout=5)
    done = requests.get(consent.headers["Location"], cookies={"qbsync_connect": cookie}, timeout=10)
    assert done.status_code == 200 and "Connected to" in done.text, done.text
    assert requests.get(link, allow_redirects=False, timeout=5).status_code == 403, "used once"
    post(playground, "api/close", {})
    status = services.connection.status()
    assert status.connected and status.realm_id == realm
