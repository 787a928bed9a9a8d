"""Modals that carry a fix's human choice: the modal that asks a fix's choice for a load, filled once
QuickBooks has answered (:func:`fill_choice_modal`), and the answers read back from a submitted modal
(:func:`read_choice`). The submission is :mod:`commands.views`' listener; the pickers' options,
:mod:`commands.options`'."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.views import modals
from commands.common import Deps, fill_view
from services.errors import QbsyncError
from services.fixes import choices
from services.fixes.choice import Choice
from services.fixes.registry import REGISTRY


def fill_choice_modal(client: WebClient, deps: Deps, view_id: str, fix: str, load: str, meta: str) -> None:
    sync = deps.services.sync
    try:
        view = _choice_view(sync, fix, load, meta, view_id)
    except QbsyncError as exc:
        view = modals.notice_modal(fix, f"Could not look that up: {exc}", meta)
    fill_view(client, view_id, view)


def _choice_view(sync, fix: str, load: str, meta: str, view_id: str | None = None) -> dict[str, Any]:
    """The modal that asks ``fix``'s choice for the load, filled with what its offer looked up."""
    choice = choice_of(fix)
    if choice is None:
        raise QbsyncError(f"{fix} needs no choice")
    offer = choice.offer(sync, load)
    if offer.notice is not None:
        return modals.notice_modal(fix, offer.notice, meta)
    if offer.searched is not None:
        choices.remember(view_id, offer.searched)  # before the modal shows its menu: it asks at once
    return modals.MODALS[choice.kind](load, offer, meta)


def read_choice(fix: str, values: dict[str, Any]) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The options each run of the fix takes, and errors by block id (empty when the input is fine)."""
    choice = choice_of(fix)
    if choice is None:
        return [], {}
    runs, errors = choice.read(modals.answers(choice.kind, values))
    return runs, {modals.input_block(choice.kind, question): text for question, text in errors.items()}


def choice_of(fix: Any) -> Choice | None:
    """The choice ``fix`` needs (None for a fix that needs none, or no fix at all)."""
    found = REGISTRY.get(fix) if isinstance(fix, str) else None
    return found.choice if found is not None else None
