"""The stand-in's rate tiers and its uninstall, driven through the real slack_sdk WebClient: Tier 3 refuses
the 51st ``chat.update`` in a (scaled) minute with 429, ``Retry-After`` and ``ratelimited``; the window
slides; ``chat.postMessage`` is paced per channel with a short burst; tiers are off unless asked; the
``ratelimit`` fault injection still works; an uninstalled app's token is refused and a reinstall's
accepted."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from emulator.slack import SlackStandIn
from emulator.slack.tiers import BURST, PER_MINUTE, RateTiers

CHANNEL = "C0TIERS01"


@pytest.fixture
def tiered() -> Iterator[SlackStandIn]:
    with SlackStandIn(rate_tiers=True, minute=2.0) as slack:
        yield slack


def client(slack: SlackStandIn, token: str | None = None) -> WebClient:
    return WebClient(token=token or slack.bot_token, base_url=slack.api_url, retry_handlers=[])


def test_tier_3_refuses_the_51st_update_in_a_minute_with_retry_after(tiered):
    web = client(tiered)
    posted = web.chat_postMessage(channel=CHANNEL, text="0")
    for n in range(PER_MINUTE[3]):
        web.chat_update(channel=CHANNEL, ts=posted["ts"], text=str(n))
    with pytest.raises(SlackApiError) as refused:
        web.chat_update(channel=CHANNEL, ts=posted["ts"], text="one too many")
    response = refused.value.response
    assert response.status_code == 429 and response["error"] == "ratelimited" and response["ok"] is False
    assert int(response.headers["Retry-After"]) >= 1
    assert tiered.messages(CHANNEL)[0].text == str(PER_MINUTE[3] - 1), "the refused update changed nothing"
    web.chat_postEphemeral(channel=CHANNEL, user="U0USER001", text="another method: its own budget")


def test_the_window_slides():
    now = [0.0]
    tiers = RateTiers(minute=60.0, clock=lambda: now[0])
    assert all(tiers.check("chat.update", {}) is None for _ in range(50))
    assert tiers.check("chat.update", {}) == 60
    now[0] = 45.0
    assert tiers.check("chat.update", {}) == 15
    now[0] = 60.0
    assert tiers.check("chat.update", {}) is None
    assert tiers.check("apps.connections.open", {}) is None and tiers.check("apps.connections.open", {}) == 60


def test_post_message_is_paced_per_channel_after_a_short_burst():
    now = [0.0]
    tiers = RateTiers(minute=60.0, clock=lambda: now[0])
    assert all(tiers.check("chat.postMessage", {"channel": "C1"}) is None for _ in range(BURST))
    assert tiers.check("chat.postMessage", {"channel": "C1"}) == 1
    assert tiers.check("chat.postMessage", {"channel": "C2"}) is None, "another channel has its own pace"
    now[0] = 1.0
    assert tiers.check("chat.postMessage", {"channel": "C1"}) is None
    assert tiers.check("chat.postMessage", {"channel": "C1"}) == 1


def test_post_message_over_http_answers_429_when_a_channel_is_flooded(tiered):
    web = client(tiered)
    answers = []
    for n in range(BURST + 3):
        try:
            web.chat_postMessage(channel=CHANNEL, text=str(n))
            answers.append(200)
        except SlackApiError as exc:
            answers.append(exc.response.status_code)
            assert exc.response["error"] == "ratelimited" and exc.response.headers["Retry-After"] == "1"
    assert answers[:BURST] == [200] * BURST and 429 in answers[BURST:]
    assert len(tiered.messages(CHANNEL)) == answers.count(200)


def test_tiers_are_off_by_default_and_the_fault_injection_still_works():
    with SlackStandIn() as slack:
        web = client(slack)
        posted = web.chat_postMessage(channel=CHANNEL, text="0")
        for n in range(PER_MINUTE[3] + 10):
            web.chat_update(channel=CHANNEL, ts=posted["ts"], text=str(n))
        slack.ratelimit("chat.update", times=1, retry_after=7)
        with pytest.raises(SlackApiError) as refused:
            web.chat_update(channel=CHANNEL, ts=posted["ts"], text="refused")
        assert refused.value.response.headers["Retry-After"] == "7"
        web.chat_update(channel=CHANNEL, ts=posted["ts"], text="again")


def test_tiers_turned_on_for_a_running_stand_in_and_off_by_reset():
    with SlackStandIn() as slack:
        slack.use_rate_tiers(minute=60.0)
        web = client(slack)
        web.apps_connections_open(app_token=slack.app_token)
        with pytest.raises(SlackApiError) as refused:
            web.apps_connections_open(app_token=slack.app_token)
        assert refused.value.response.status_code == 429, "Tier 1: one a minute"
        slack.reset()
        web.apps_connections_open(app_token=slack.app_token)
        web.apps_connections_open(app_token=slack.app_token)


def test_a_scaled_minute_passes_in_seconds(tiered):
    web = client(tiered)
    web.apps_connections_open(app_token=tiered.app_token)
    with pytest.raises(SlackApiError):
        web.apps_connections_open(app_token=tiered.app_token)
    deadline = time.monotonic() + 10
    while True:  # the 2 s "minute" has to pass: a wait on time itself
        try:
            web.apps_connections_open(app_token=tiered.app_token)
            break
        except SlackApiError:
            assert time.monotonic() < deadline, "the scaled minute never passed"
            time.sleep(0.2)


def test_an_uninstalled_apps_token_is_refused_and_a_reinstall_accepted():
    with SlackStandIn() as slack:
        old = slack.bot_token
        client(slack).auth_test()
        assert slack.uninstall() == []
        assert slack.uninstalled
        with pytest.raises(SlackApiError) as refused:
            client(slack, old).chat_postMessage(channel=CHANNEL, text="hello")
        assert refused.value.response["error"] == "account_inactive"
        slack.reinstall("xoxb-new-install")
        assert not slack.uninstalled
        assert client(slack, "xoxb-new-install").auth_test()["ok"]
        with pytest.raises(SlackApiError):
            client(slack, old).auth_test()
        with pytest.raises(ValueError):
            slack.reinstall(old)
        slack.reset()
        assert client(slack, old).auth_test()["ok"], "reset installs the first token again"
