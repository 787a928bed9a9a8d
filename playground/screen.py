"""What the page shows, and when that changed: the stand-in channel's messages as the person at the page
sees them, with the page's own lines (the command they typed, the acknowledgement Slack shows them); the
open modal, with the values and errors it was last submitted with and its searched menus as Slack shows
them; and the Home tab, all as HTML made by :mod:`playground.render`. Each change counts up a version,
which the page's event stream waits on."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from emulator.slack import block_suggestion_body
from playground import render
from playground.app_link import AppLink, json_object, now_ts
from playground.workspace import HARBOR, Seat


@dataclass
class ModalInputs:
    """The values a modal was last submitted with and the errors the app answered, by view id."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class Screen:
    """The page's content (:meth:`state`) and its version (:meth:`touch`, :meth:`wait_change`) for the
    workspace ``seat``; ``slack`` is that workspace in the stand-in (a ``SlackTeam``, or the stand-in
    itself for its default workspace)."""

    def __init__(self, slack: Any, app: AppLink, stopping: threading.Event, seat: Seat = HARBOR) -> None:
        self.slack, self.app, self.stopping, self.seat = slack, app, stopping, seat
        self.version = 0
        self.changed = threading.Condition()
        self._local: list[render.Shown] = []  # the person's own lines and acknowledgements
        self._inputs: dict[str, ModalInputs] = {}
        self._menus: dict[str, dict[str, Any]] = {}  # searched menus as shown, by view id and hash

    # -- changes --------------------------------------------------------------------------------------

    def touch(self) -> None:
        with self.changed:
            self.version += 1
            self.changed.notify_all()

    def wait_change(self, seen: int, timeout: float) -> int:
        with self.changed:
            if self.version == seen and not self.stopping.is_set():
                self.changed.wait(timeout)
            return self.version

    def wake(self) -> None:
        """Wake whoever waits for a change (so that an event stream sees the playground stopping)."""
        with self.changed:
            self.changed.notify_all()

    # -- what the page keeps of its own ---------------------------------------------------------------

    def add_local(self, shown: render.Shown) -> None:
        with self.changed:
            self._local.append(shown)
        self.touch()

    def show_acknowledgement(self, body: str) -> None:
        """Slack shows a slash command's acknowledgement body as a message to the person who typed it."""
        reply = json_object(body)
        if not reply:
            reply = {"text": body}
        self.add_local(
            render.Shown(
                ts=now_ts(),
                text=str(reply.get("text") or ""),
                blocks=list(reply.get("blocks") or []),
                user=self.slack.bot_user_id,
                ephemeral=reply.get("response_type") != "in_channel",
                via="ack",
            )
        )

    def inputs(self, view_id: str) -> ModalInputs:
        """The values and errors kept for the modal ``view_id`` (kept from now on)."""
        return self._inputs.setdefault(view_id, ModalInputs())

    # -- what the page shows --------------------------------------------------------------------------

    def names(self) -> render.Names:
        seat = self.seat
        return render.Names(
            users={seat.user: seat.user_name, self.slack.bot_user_id: "qbsync"},
            bot_user=self.slack.bot_user_id,
            channels={seat.channel: seat.channel_name},
        )

    def messages(self) -> list[render.Shown]:
        shown = [
            render.Shown(
                ts=m.ts,
                text=m.text,
                blocks=m.blocks,
                user=m.user,
                ephemeral=m.ephemeral_for is not None,
                replaced=m.replaced,
                files=m.files,
                via=m.via,
            )
            for m in self.slack.messages(self.seat.channel)
            if not m.deleted and m.ephemeral_for in (None, self.seat.user)
        ]
        with self.changed:
            shown += list(self._local)
        return sorted(shown, key=lambda m: float(m.ts))

    def message(self, ts: str) -> render.Shown | None:
        return next((m for m in self.messages() if m.ts == ts), None)

    def modal(self) -> dict[str, Any] | None:
        stack = self.slack.views(self.seat.user)
        return stack[-1] if stack else None

    def state(self) -> dict[str, Any]:
        """The page's content: every message (keyed by ts and revision), the open modal, the Home tab."""
        names = self.names()
        version = self.version
        messages = [
            {"key": m.ts, "rev": f"{m.replaced}", "html": render.message_html(m, names)}
            for m in self.messages()
        ]
        modal = self.modal()
        modal_out = None
        if modal is not None:
            modal = self._menus_shown(modal)
            inputs = self._inputs.get(modal["id"], ModalInputs())
            state = render.InputState(inputs.values, inputs.errors)
            key = f"{modal['id']}:{modal.get('hash')}:{json.dumps(inputs.errors, sort_keys=True)}"
            modal_out = {"key": key, "html": render.modal_html(modal, names, state)}
        home = self.slack.home(self.seat.user)
        home_out = {"key": home.get("hash"), "html": render.home_html(home, names)} if home else None
        return {"version": version, "messages": messages, "modal": modal_out, "home": home_out}

    def _menus_shown(self, view: dict[str, Any]) -> dict[str, Any]:
        """The view with each searched menu (``external_select``) shown as the list Slack shows when it
        opens: the app's answer to an options request with nothing typed (asked once per view)."""
        key = f"{view.get('id')}:{view.get('hash')}"
        with self.changed:
            kept = self._menus.get(key)
        if kept is not None:
            return kept
        blocks = []
        for block in view.get("blocks") or []:
            element = block.get("element") if isinstance(block, dict) else None
            if isinstance(element, dict) and element.get("type") == "external_select":
                body = block_suggestion_body(
                    str(element.get("action_id") or ""),
                    "",
                    str(block.get("block_id") or ""),
                    view,
                    self.seat.user,
                    team_id=self.seat.team,
                )
                answer = json_object(self.app.post(body).body)
                menu = {k: v for k, v in element.items() if k not in ("min_query_length", "initial_option")}
                menu["type"] = "static_select"
                if answer.get("option_groups"):
                    menu["option_groups"] = answer["option_groups"]
                else:
                    menu["options"] = answer.get("options") or []
                block = {**block, "element": menu}
            blocks.append(block)
        shown = {**view, "blocks": blocks}
        with self.changed:
            self._menus[key] = shown
        return shown
