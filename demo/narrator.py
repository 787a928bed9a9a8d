"""Where the demo's story goes: a ``Narrator`` receives plain domain results (the command line renders
them); ``Quiet`` says nothing, for a caller that wants only the story's state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from services.diagnosis.diagnoser import Diagnosis
from services.diagnosis.problems import Dismissed, Problem
from services.diagnosis.reasons import Reason
from services.digest.build import Digest
from services.fixes.fixer import FixResult
from services.sync import SyncResult


class Narrator(Protocol):
    """Where the story goes; each method receives plain domain results."""

    def section(self, title: str) -> None: ...
    def say(self, text: str) -> None: ...
    def choice(self, text: str) -> None: ...
    def results(self, results: list[SyncResult]) -> None: ...
    def problems(self, problems: list[Problem], dismissed: list[Dismissed]) -> None: ...
    def diagnosis(self, diagnosis: Diagnosis, recorded: list[Reason] | None = None) -> None: ...
    def fix(self, result: FixResult) -> None: ...
    def outcome(self, diagnosis: Diagnosis) -> None: ...
    def digest(self, digest: Digest, tz: str) -> None: ...


class Quiet:
    """A narrator that says nothing (the story's state is all that is wanted)."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None
