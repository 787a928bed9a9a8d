"""What is wrong with an import: one problem (``ImportProblem``), the errors an import raises with
nothing written (``ImportFileError``, ``DuplicateEventError``) and the list the checks fill in
document order (``ProblemList``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.errors import QbsyncError, UserInputError
from services.tms.loadnumbers import show

MAX_PROBLEMS_SHOWN = 50


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with an import. ``record`` is e.g. ``"loads[2] (L-1003)"`` or ``"customers"``
    (empty for the document as a whole); ``field`` is e.g. ``"charges[0].amount"`` or ``None``."""

    record: str
    field: str | None
    message: str

    def __str__(self) -> str:
        return ": ".join(part for part in (self.record, self.field, self.message) if part)


class ImportFileError(UserInputError):
    """The data cannot be imported; nothing was written. ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[ImportProblem], source: str = "import") -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(_problems_message(self.problems, source))


class DuplicateEventError(QbsyncError):
    """A TMS event whose ``event_id`` was applied before; nothing was written."""

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        super().__init__(f"event_id {show(event_id)} was received before; nothing was written")


def _problems_message(problems: Sequence[ImportProblem], source: str) -> str:
    """One line for a single problem; otherwise a count, then one problem per line (capped)."""
    head = f"nothing was imported from {source}"
    if len(problems) == 1:
        return f"{head}: {problems[0]}"
    lines = [f"{head}: {len(problems)} problems"]
    lines += [f"  {problem}" for problem in problems[:MAX_PROBLEMS_SHOWN]]
    if len(problems) > MAX_PROBLEMS_SHOWN:
        lines.append(f"  … and {len(problems) - MAX_PROBLEMS_SHOWN} more")
    return "\n".join(lines)


class ProblemList:
    """Collects problems in document order (section, then record position)."""

    def __init__(self) -> None:
        self._items: list[tuple[tuple[int, int], int, ImportProblem]] = []

    def add(self, record: str, field: str | None, message: str, *, order: tuple[int, int] = (-1, 0)) -> None:
        self._items.append((order, len(self._items), ImportProblem(record, field, message)))

    def __bool__(self) -> bool:
        return bool(self._items)

    def sorted(self) -> list[ImportProblem]:
        return [problem for _, _, problem in sorted(self._items, key=lambda item: item[:2])]
