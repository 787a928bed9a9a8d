"""What the person at the page does, sent to the app as Slack would send it: typing ``/qbsync …`` in
the channel (a slash command), clicking a button or choosing an option in a message, a modal or the Home
tab (block_actions), submitting or closing a modal (view_submission), opening the Home tab
(app_home_opened); and running today's digest at once. The page's own lines and a modal's submitted
values go to the :class:`~playground.screen.Screen`; what the app sends to Slack lands in the stand-in,
which the screen shows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from emulator.slack import (
    block_actions_body,
    event_callback_body,
    slash_command_body,
    view_submission_body,
)
from playground import render
from playground.app_link import Answer, AppLink, json_object, now_ts
from playground.screen import Screen
from playground.workspace import COMMAND, Seat

PostDigest = Callable[[], str]  # posts today's digest to the seat's channel; says what was done


class Person:
    """The person at the page in one workspace (its administrator, allowed every fix), in its #billing
    channel: ``screen.seat`` says who and where; ``slack`` is that workspace in the stand-in."""

    def __init__(self, slack: Any, app: AppLink, screen: Screen, post_digest: PostDigest) -> None:
        self.slack, self.app, self.screen = slack, app, screen
        self.seat: Seat = screen.seat
        self._post_digest = post_digest
        self._digest_lock = threading.Lock()

    def command(self, text: str) -> Answer:
        """Type ``/qbsync text`` in the channel."""
        text, seat = text.strip(), self.seat
        self.screen.add_local(
            render.Shown(ts=now_ts(), text=f"{COMMAND} {text}".strip(), blocks=[], user=seat.user)
        )
        body = slash_command_body(
            COMMAND,
            text,
            user_id=seat.user,
            channel_id=seat.channel,
            team_id=seat.team,
            response_url=self.slack.new_response_url(seat.channel, seat.user),
            trigger_id=self.slack.new_trigger_id(seat.user),
        )
        answer = self.app.post(body)
        if answer.status == 200 and answer.body.strip():
            self.screen.show_acknowledgement(answer.body)
        return answer

    def action(self, surface: str, data: dict[str, Any]) -> Answer:
        """Click a button or choose an option in a message, the open modal or the Home tab."""
        action_id, block_id = str(data.get("action_id") or ""), str(data.get("block_id") or "")
        if not action_id:
            return Answer(400, "", "no action_id")
        kind = "static_select" if data.get("kind") == "static_select" else "button"
        selected = None
        if kind == "static_select":
            selected = {
                "text": {"type": "plain_text", "text": str(data.get("text") or ""), "emoji": True},
                "value": str(data.get("value") or ""),
            }
        value = None if kind == "static_select" else data.get("value")
        seat = self.seat
        common = dict(
            user_id=seat.user,
            team_id=seat.team,
            trigger_id=self.slack.new_trigger_id(seat.user),
            action_type=kind,
            selected_option=selected,
        )
        if surface == "message":
            message = self.screen.message(str(data.get("ts") or ""))
            if message is None:
                return Answer(404, "", "that message is gone")
            body = block_actions_body(
                action_id,
                value,
                block_id,
                channel_id=seat.channel,
                message_ts=message.ts,
                message_blocks=message.blocks,
                response_url=self.slack.new_response_url(seat.channel, seat.user, message_ts=message.ts),
                is_ephemeral=message.ephemeral,
                **common,
            )
        else:
            view = self.screen.modal() if surface == "modal" else self.slack.home(seat.user)
            if view is None:
                return Answer(404, "", f"no {surface} is open")
            body = block_actions_body(action_id, value, block_id, view=view, **common)
        return self.app.post(body)

    def submit(self, values: dict[str, Any]) -> Answer:
        """Press the open modal's submit button with ``values`` (the view state Slack would send)."""
        view = self.screen.modal()
        if view is None:
            return Answer(404, "", "no modal is open")
        seat = self.seat
        trigger = self.slack.new_trigger_id(seat.user)
        body = view_submission_body(view, values, user_id=seat.user, team_id=seat.team, trigger_id=trigger)
        answer = self.app.post(body)
        inputs = self.screen.inputs(view["id"])
        inputs.values, inputs.errors = values, {}
        if answer.status != 200:
            return answer
        reply = json_object(answer.body)
        action = reply.get("response_action")
        if action == "errors":
            inputs.errors = {k: str(v) for k, v in (reply.get("errors") or {}).items()}
            answer.note = "errors"
            self.screen.touch()
        elif action in (None, "clear"):
            self.slack.close_views(seat.user)
        else:
            answer.note = f"response_action {action!r} is not shown by the playground"
            self.slack.close_views(seat.user)
        return answer

    def close_modal(self) -> None:
        """The modal's Cancel or ✕ (the app asked for no view_closed event, so none is sent)."""
        self.slack.close_views(self.seat.user)

    def open_home(self) -> Answer:
        """Open the app's Home tab: Slack sends ``app_home_opened``."""
        seat = self.seat
        event = {
            "type": "app_home_opened",
            "user": seat.user,
            "channel": "D" + seat.user[1:],
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        home = self.slack.home(seat.user)
        if home:
            event["view"] = home
        body = event_callback_body(event, team_id=seat.team, bot_user_id=self.slack.bot_user_id)
        return self.app.post(body)

    def run_digest(self) -> str:
        """Today's digest, posted to the channel now through the app's Slack client."""
        with self._digest_lock:
            return self._post_digest()
