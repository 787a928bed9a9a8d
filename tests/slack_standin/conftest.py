"""One Slack stand-in per test module, reset before each test with the manifest's bot scopes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.slack import SlackStandIn


@pytest.fixture(scope="module")
def _standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(port=0) as standin:
        yield standin


@pytest.fixture
def slack(_standin: SlackStandIn) -> SlackStandIn:
    _standin.reset()
    _standin.set_scopes(None)  # the manifest's bot scopes
    return _standin
