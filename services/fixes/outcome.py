"""What one fix did: an :class:`Outcome` of a kind (:class:`OutcomeKind`), its message, the changes it
made and, when a person must choose, the candidates. The kinds' values are the words the audit, the
JSON output and the catalogue's ``OUTCOME_WORDS`` use."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class OutcomeKind(StrEnum):
    APPLIED = "applied"  # the fix changed something
    NOTHING_TO_DO = "unchanged"  # it was already so
    REFUSED = "refused"  # not done: the message says why and what to do first
    CHOICE = "choice"  # a person must choose (the candidates are in ``choices``)
    ACTION = "action"  # one more step for a person (connect: open the authorization page)
    FAILED = "failed"  # tried, and QuickBooks or the load did not let it happen


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    message: str
    changes: dict[str, Any] = field(default_factory=dict)
    choices: list[dict[str, Any]] = field(default_factory=list)


def applied(message: str, changes: dict[str, Any] | None = None) -> Outcome:
    return Outcome(OutcomeKind.APPLIED, message, changes or {})


def nothing_to_do(message: str, changes: dict[str, Any] | None = None) -> Outcome:
    return Outcome(OutcomeKind.NOTHING_TO_DO, message, changes or {})


def refused(message: str) -> Outcome:
    return Outcome(OutcomeKind.REFUSED, message)


def failed(message: str, changes: dict[str, Any] | None = None) -> Outcome:
    return Outcome(OutcomeKind.FAILED, message, changes or {})


def needs_choice(
    message: str, choices: list[dict[str, Any]], changes: dict[str, Any] | None = None
) -> Outcome:
    return Outcome(OutcomeKind.CHOICE, message, changes or {}, choices)


def action(message: str, changes: dict[str, Any]) -> Outcome:
    return Outcome(OutcomeKind.ACTION, message, changes)
