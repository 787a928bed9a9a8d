"""The Slack stand-in, the app over HTTP and the web routes, as the Slack tests use them."""

from tests.slack.conftest import (  # noqa: F401 - fixtures
    bot,
    make_bot,
    make_web,
    qbsync_logs,
    slack,
    slack_server,
)
