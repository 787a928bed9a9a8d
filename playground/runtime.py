"""One process: the QuickBooks emulator with the demo company in its problem state (every reason
present, none fixed; a temporary SQLite file), the Slack stand-in, the real Bolt app (``create_app``,
the same as ``qbsync serve``) at ``/slack/events``, and the page, all on 127.0.0.1.

What a person does on the page becomes what Slack sends — a signed slash command, block_actions,
view_submission or app_home_opened request to the app's ``/slack/events`` — and what the app sends
to Slack lands in the stand-in, which the page shows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server

from emulator.slack import (
    SlackStandIn,
    block_actions_body,
    block_suggestion_body,
    event_callback_body,
    post_to_app,
    slash_command_body,
    view_submission_body,
)
from playground import render
from playground.safety import check_host, check_settings, playground_settings
from services.errors import ConfigurationError

log = logging.getLogger(__name__)

TEAM = "T0HARBOR1"
TEAM_NAME = "Harbor Line Drayage"
CHANNEL = "C0BILLING1"
CHANNEL_NAME = "billing"
USER = "U0ALEX001"
USER_NAME = "Alex Rivera"
COMMAND = "/qbsync"


@dataclass
class Answer:
    """What the app answered to one request the page made on a person's behalf."""

    status: int
    body: str
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.status == 200, "status": self.status, "note": self.note}


@dataclass
class ModalInputs:
    """The values a modal was last submitted with and the errors the app answered, by view id."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class Playground:
    """Start with :meth:`start` (or ``with``); :attr:`url` is the page. :meth:`stop` ends everything."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", today: dt.date | None = None) -> None:
        check_host(host)
        self.channel, self.user = CHANNEL, USER
        self.host, self.port, self.today = host, port, today
        self.url = ""
        self.version = 0
        self.changed = threading.Condition()
        self.stopping = threading.Event()
        self._stack = contextlib.ExitStack()
        self._local: list[render.Shown] = []  # the person's own lines and acknowledgements
        self._inputs: dict[str, ModalInputs] = {}
        self._menus: dict[str, dict[str, Any]] = {}  # searched menus as shown, by view id and hash
        self._digest_lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> Playground:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def _start(self) -> None:
        from bot.app import create_app, web_client
        from bot.web import create_web_app
        from demo.environment import demo_environment
        from demo.walkthrough import stage_problems
        from playground.web import page_blueprint

        werkzeug = logging.getLogger("werkzeug")  # one line per request only when asked for (INFO)
        if werkzeug.level == logging.NOTSET:
            werkzeug.setLevel(max(logging.getLogger().getEffectiveLevel(), logging.WARNING))
        env = self._stack.enter_context(demo_environment())
        self.env = env
        slack = SlackStandIn(port=0, bot_token=f"xoxb-playground-{secrets.token_hex(8)}", team_id=TEAM)
        slack.settings.team_name = TEAM_NAME
        slack.settings.team_domain = "harborline"
        self.slack = self._stack.enter_context(slack)
        slack.add_user(USER, real_name=USER_NAME, tz="America/Los_Angeles")
        slack.add_channel(CHANNEL, name=CHANNEL_NAME)
        holder: dict[str, Any] = {}  # the page's app, made once the port (its own address) is known
        try:
            self._server = make_server(
                self.host, self.port, lambda environ, start: holder["web"](environ, start), threaded=True
            )
        except OSError as exc:
            raise ConfigurationError(
                f"cannot listen on {self.host}:{self.port} ({exc.strerror}); try another --port"
            ) from None
        self._stack.callback(self._server.server_close)
        self.port = self._server.server_port
        self.url = f"http://{self.host}:{self.port}/"
        self.settings = playground_settings(  # Connect QuickBooks leads to this server's /qbo/connect
            env.settings,
            slack_api_url=slack.api_url,
            bot_token=slack.bot_token,
            user=USER,
            channel=CHANNEL,
            public_url=self.url.rstrip("/"),
        )
        check_settings(self.settings, emulator_url=env.emulator.url, slack_api_url=slack.api_url)
        env.services.settings = self.settings
        self.story = stage_problems(env, today=self.today)
        self.client = web_client(self.settings)
        self.app = create_app(self.settings, env.services)
        web = create_web_app(self.app, env.services)
        web.register_blueprint(page_blueprint(self))
        holder["web"] = web
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        self._stack.callback(self._stop_server)
        self._stack.callback(self.stopping.set)
        self._stack.callback(slack.subscribe(lambda _event: self.touch()))

    def _stop_server(self) -> None:
        with self.changed:
            self.changed.notify_all()
        self._server.shutdown()
        self._thread.join(timeout=5)

    def stop(self) -> None:
        self.stopping.set()
        self._stack.close()

    def __enter__(self) -> Playground:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def secret(self) -> str:
        return self.settings.slack_signing_secret.get_secret_value()

    @property
    def events_url(self) -> str:
        return f"{self.url}slack/events"

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

    # -- what a person does ---------------------------------------------------------------------------

    def command(self, text: str) -> Answer:
        """Type ``/qbsync text`` in the channel."""
        text = text.strip()
        self._add_local(render.Shown(ts=_ts(), text=f"{COMMAND} {text}".strip(), blocks=[], user=USER))
        body = slash_command_body(
            COMMAND,
            text,
            user_id=USER,
            channel_id=CHANNEL,
            team_id=TEAM,
            response_url=self.slack.new_response_url(CHANNEL, USER),
            trigger_id=self.slack.new_trigger_id(USER),
        )
        answer = self._post(body)
        if answer.status == 200 and answer.body.strip():
            self._show_acknowledgement(answer.body)
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
        common = dict(
            user_id=USER,
            team_id=TEAM,
            trigger_id=self.slack.new_trigger_id(USER),
            action_type=kind,
            selected_option=selected,
        )
        if surface == "message":
            message = self._message(str(data.get("ts") or ""))
            if message is None:
                return Answer(404, "", "that message is gone")
            body = block_actions_body(
                action_id,
                value,
                block_id,
                channel_id=CHANNEL,
                message_ts=message.ts,
                message_blocks=message.blocks,
                response_url=self.slack.new_response_url(CHANNEL, USER, message_ts=message.ts),
                is_ephemeral=message.ephemeral,
                **common,
            )
        else:
            view = self.modal() if surface == "modal" else self.slack.home(USER)
            if view is None:
                return Answer(404, "", f"no {surface} is open")
            body = block_actions_body(action_id, value, block_id, view=view, **common)
        return self._post(body)

    def submit(self, values: dict[str, Any]) -> Answer:
        """Press the open modal's submit button with ``values`` (the view state Slack would send)."""
        view = self.modal()
        if view is None:
            return Answer(404, "", "no modal is open")
        body = view_submission_body(
            view, values, user_id=USER, team_id=TEAM, trigger_id=self.slack.new_trigger_id(USER)
        )
        answer = self._post(body)
        inputs = self._inputs.setdefault(view["id"], ModalInputs())
        inputs.values, inputs.errors = values, {}
        if answer.status != 200:
            return answer
        reply = _json(answer.body)
        action = reply.get("response_action")
        if action == "errors":
            inputs.errors = {k: str(v) for k, v in (reply.get("errors") or {}).items()}
            answer.note = "errors"
            self.touch()
        elif action in (None, "clear"):
            self.slack.close_views(USER)
        else:
            answer.note = f"response_action {action!r} is not shown by the playground"
            self.slack.close_views(USER)
        return answer

    def close_modal(self) -> None:
        """The modal's Cancel or ✕ (the app asked for no view_closed event, so none is sent)."""
        self.slack.close_views(USER)

    def open_home(self) -> Answer:
        """Open the app's Home tab: Slack sends ``app_home_opened``."""
        event = {
            "type": "app_home_opened",
            "user": USER,
            "channel": "D" + USER[1:],
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        home = self.slack.home(USER)
        if home:
            event["view"] = home
        body = event_callback_body(event, team_id=TEAM, bot_user_id=self.slack.bot_user_id)
        return self._post(body)

    def run_digest(self) -> str:
        """Today's digest, posted to the channel now through the app's Slack client."""
        from playground.digest import post_digest

        with self._digest_lock:
            return post_digest(self.env.services, self.client, CHANNEL)

    # -- what the page shows --------------------------------------------------------------------------

    def names(self) -> render.Names:
        return render.Names(
            users={USER: USER_NAME, self.slack.bot_user_id: "qbsync"}, bot_user=self.slack.bot_user_id
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
            for m in self.slack.messages(CHANNEL)
            if not m.deleted and m.ephemeral_for in (None, USER)
        ]
        with self.changed:
            shown += list(self._local)
        return sorted(shown, key=lambda m: float(m.ts))

    def modal(self) -> dict[str, Any] | None:
        stack = self.slack.views(USER)
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
        home = self.slack.home(USER)
        home_out = {"key": home.get("hash"), "html": render.home_html(home, names)} if home else None
        return {"version": version, "messages": messages, "modal": modal_out, "home": home_out}

    # -- helpers --------------------------------------------------------------------------------------

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
                    USER,
                    team_id=TEAM,
                )
                answer = _json(self._post(body).body)
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

    def _post(self, body: str) -> Answer:
        status, _headers, text = post_to_app(self.events_url, body, self.secret, timeout=15)
        if status != 200:
            log.warning("the app answered HTTP %s: %s", status, text[:200])
        return Answer(status, text)

    def _add_local(self, shown: render.Shown) -> None:
        with self.changed:
            self._local.append(shown)
        self.touch()

    def _show_acknowledgement(self, body: str) -> None:
        """Slack shows a slash command's acknowledgement body as a message to the person who typed it."""
        reply = _json(body)
        if not reply:
            reply = {"text": body}
        self._add_local(
            render.Shown(
                ts=_ts(),
                text=str(reply.get("text") or ""),
                blocks=list(reply.get("blocks") or []),
                user=self.slack.bot_user_id,
                ephemeral=reply.get("response_type") != "in_channel",
                via="ack",
            )
        )

    def _message(self, ts: str) -> render.Shown | None:
        return next((m for m in self.messages() if m.ts == ts), None)


def _ts() -> str:
    return f"{time.time():.6f}"


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
