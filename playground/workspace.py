"""The made-up Slack workspace the playground runs in: its team, its one channel (#billing), the one
person at the page (allowed every fix), and the slash command they type. The runtime sets the stand-in
up with these; the page shows the same names."""

from __future__ import annotations

TEAM = "T0HARBOR1"
TEAM_NAME = "Harbor Line Drayage"
TEAM_DOMAIN = "harborline"
CHANNEL = "C0BILLING1"
CHANNEL_NAME = "billing"
USER = "U0ALEX001"
USER_NAME = "Alex Rivera"
COMMAND = "/qbsync"
