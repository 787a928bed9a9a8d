"""The made-up Slack workspaces the playground runs in: each one's team, its one channel (#billing) and the
one person at the page there (its administrator, allowed every fix), and the slash command they type. The
runtime sets the stand-in up with these; the page shows the same names.

``qbsync playground`` alone runs Harbor Line Drayage as the one workspace of a single-workspace
deployment (the names below). With ``--workspaces 2`` the app runs in distribution mode and a second
drayage company, Bayside Drayage, sits beside it in a workspace of its own (:data:`SEATS`)."""

from __future__ import annotations

from dataclasses import dataclass

TEAM = "T0HARBOR1"
TEAM_NAME = "Harbor Line Drayage"
TEAM_DOMAIN = "harborline"
CHANNEL = "C0BILLING1"
CHANNEL_NAME = "billing"
USER = "U0ALEX001"
USER_NAME = "Alex Rivera"
COMMAND = "/qbsync"


@dataclass(frozen=True)
class Seat:
    """One workspace as the page shows it: the team, its channel, and the person at the page there."""

    team: str
    team_name: str
    team_domain: str
    channel: str
    channel_name: str
    user: str
    user_name: str
    tz: str = "America/Los_Angeles"


HARBOR = Seat(TEAM, TEAM_NAME, TEAM_DOMAIN, CHANNEL, CHANNEL_NAME, USER, USER_NAME)
BAYSIDE = Seat(
    team="T0BAYSIDE2",
    team_name="Bayside Drayage",
    team_domain="baysidedrayage",
    channel="C0BAYBILL2",
    channel_name="billing",
    user="U0SAM0002",
    user_name="Sam Okafor",
)
SEATS = (HARBOR, BAYSIDE)  # the workspaces of ``--workspaces 2``, left to right
