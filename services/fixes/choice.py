"""The human choice a fix needs, described once on the fix: what kind of choice it is
(:class:`ChoiceKind`: a QuickBooks customer, an item per charge code, an email, an invoice number, a
reason), how it is offered (:attr:`Choice.offer` looks up an :class:`Offer`, the data a modal shows)
and how an answer is read into the options of the fix's runs (:meth:`Choice.read`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from services.errors import QbsyncError
from services.fixes.choices import CUSTOMERS, ITEMS, ChoiceList, ItemChoice, Option
from services.sync import SyncEngine

ERROR_MAX = 150  # an error shown under a modal's input


class ChoiceKind(StrEnum):
    """What a person chooses (the catalogue's ``FixWords.choice``)."""

    CUSTOMER = CUSTOMERS  # one QuickBooks customer, searched as they type
    ITEM = ITEMS  # a QuickBooks item for each charge code, searched as they type
    EMAIL = "email"  # an email, the QuickBooks candidates offered
    DOC_NUMBER = "doc_number"  # an invoice number, the suggested one filled in
    REASON = "reason"  # a few words


@dataclass
class Offer:
    """What a choice modal shows for one load. ``notice`` instead: nothing to choose, and why."""

    subject: str = ""  # the TMS customer's name (customer, email)
    current: str = ""  # what the TMS has now (email) or the suggestion (invoice number)
    options: list[Option] = field(default_factory=list)  # likely ones, offered, never chosen
    questions: list[ItemChoice] = field(default_factory=list)  # one per charge code (items)
    searched: ChoiceList | None = None  # the company's list the modal's pickers search
    notice: str | None = None


@dataclass(frozen=True)
class Choice:
    """``option`` is the fix option an answer fills (``customer_id``, ``item_id``…). A choice
    ``per_code`` asks once per charge code (its answers keyed by code, each run also given ``code``);
    any other asks one question (its answer keyed ``""``). ``clean`` turns an answer into the option's
    value, or raises the error shown for it."""

    kind: ChoiceKind
    option: str
    offer: Callable[[SyncEngine, str], Offer]
    clean: Callable[[str], str]
    per_code: bool = False
    missing: str = ""  # the error when a choice asked per code got no answer at all

    @property
    def searched(self) -> bool:
        """Whether its pickers are searched as a person types (from the company's kept list)."""
        return self.kind in (ChoiceKind.CUSTOMER, ChoiceKind.ITEM)

    def read(self, answers: dict[str, str | None]) -> tuple[list[dict[str, str]], dict[str, str]]:
        """The options of each run of the fix, and errors by question (empty when the answers do)."""
        if self.per_code:
            runs = [{"code": key, self.option: value} for key, value in answers.items() if value]
            if not runs:
                return [], {next(iter(answers), ""): self.missing}
            return runs, {}
        try:
            return [{self.option: self.clean(answers.get("") or "")}], {}
        except QbsyncError as exc:
            return [], {"": str(exc)[:ERROR_MAX]}

    def question(self, run: dict[str, Any]) -> str:
        """Which question a run's answer came from."""
        return str(run.get("code")) if self.per_code else ""


def required(error: str) -> Callable[[str], str]:
    """A ``clean`` that only asks for an answer."""

    def clean(value: str) -> str:
        if not value:
            raise QbsyncError(error)
        return value

    return clean
