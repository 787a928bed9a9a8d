"""A local stand-in for the Slack Web API, and the requests Slack sends to an app.

The real ``slack_sdk.WebClient`` and the real Bolt app talk to it over HTTP on 127.0.0.1::

    with SlackStandIn() as slack:
        client = WebClient(token=slack.bot_token, base_url=slack.api_url)
        app = App(signing_secret="s", client=client)  # the client carries the token

It keeps small workspaces (messages per channel, modals per user, Home tabs, files), one per team
(``slack.add_team``, ``slack.team``; a call's token picks its workspace), installs the app with OAuth
v2 (``slack.authorize_url``, ``oauth.v2.access``), also for a whole Enterprise Grid organization
(``slack.add_enterprise``; see :mod:`.enterprise`), refuses Block Kit that Slack would refuse
(:func:`validate_blocks`, :func:`validate_view`), and issues trigger ids and response URLs with
Slack's lifetimes. The ``*_body`` functions and :func:`signed_headers` build what Slack posts to an
app's request URL; ``slack.socket_mode`` delivers the same to an app connected in Socket Mode
(``apps.connections.open`` with ``slack.app_token``; see :mod:`.socket_mode`).
"""

from emulator.slack.app_requests import (
    app_home_opened_body,
    block_actions_body,
    block_suggestion_body,
    event_callback_body,
    post_to_app,
    signed_headers,
    slash_command_body,
    view_submission_body,
)
from emulator.slack.blocks import validate_blocks, validate_options, validate_view
from emulator.slack.enterprise import SlackEnterprise
from emulator.slack.model import Call, Message
from emulator.slack.server import SlackStandIn
from emulator.slack.teams import SlackTeam

__all__ = [
    "Call",
    "Message",
    "SlackEnterprise",
    "SlackStandIn",
    "SlackTeam",
    "app_home_opened_body",
    "block_actions_body",
    "block_suggestion_body",
    "event_callback_body",
    "post_to_app",
    "signed_headers",
    "slash_command_body",
    "validate_blocks",
    "validate_options",
    "validate_view",
    "view_submission_body",
]
