"""One workspace on the page: who and where (:class:`~playground.workspace.Seat`), that workspace in the
Slack stand-in, what the page shows of it (:class:`~playground.screen.Screen`) and the person acting in
it (:class:`~playground.person.Person`). The page has one pane, or two side by side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playground.person import Person
from playground.screen import Screen
from playground.workspace import Seat


@dataclass
class Pane:
    seat: Seat
    slack: Any  # the workspace in the stand-in: a SlackTeam (or the stand-in, for its default workspace)
    screen: Screen
    person: Person

    @property
    def team(self) -> str:
        return self.seat.team
