"""What a fix declares: its code, who may run it, where it acts (a load, the whole company, a dismissed
load too), the human choice it needs, and :meth:`Fix.apply`. One subclass per fix code, grouped by
family in the modules beside this one; :mod:`services.fixes.registry` holds one of each."""

from __future__ import annotations

from typing import ClassVar

from services.catalogue import FIX, Confirm, FixWords, confirm_text
from services.fixes.choice import Choice
from services.fixes.context import FixContext, Options
from services.fixes.outcome import Outcome
from services.sync import LoadView


class Fix:
    code: ClassVar[str]
    admin_only: ClassVar[bool] = False  # for administrators only (QBSYNC_ADMINS)
    company_wide: ClassVar[bool] = False  # changes the whole company: once for every load, one at a time
    on_dismissed: ClassVar[bool] = False  # acts on a dismissed load (others ask to restore it first)
    choice: ClassVar[Choice | None] = None  # the human choice it needs, if any
    sync_after: ClassVar[bool] = True  # the load's sync is retried after it (unless it is dismissed)

    @property
    def words(self) -> FixWords:
        """The catalogue's words for it: its label, what it did, its confirmation."""
        return FIX[self.code]

    @property
    def per_load(self) -> bool:
        return self.words.per_load

    def confirm(self, load_number: str) -> Confirm | None:
        """The confirmation shown before it runs (none for a fix that is easily undone)."""
        return confirm_text(self.code, load_number)

    def claim_names(self, number: str) -> list[str]:
        """The locks it holds while it runs: its load's (every fix of one load in turn), and its own
        for a fix of the company (``connect``; a company-wide fix after its load's)."""
        if not self.per_load:
            return [f"fix-all:{self.code}"]
        return [f"fix:{number}", *([f"fix-all:{self.code}"] if self.company_wide else [])]

    def apply(self, ctx: FixContext, view: LoadView, options: Options) -> Outcome:
        """Do it (safe to run twice), or say why not. ``view`` is the load (``connect`` may run without
        one). Raises ``UserInputError`` for options that are not usable, ``QboError`` when QuickBooks
        fails."""
        raise NotImplementedError
