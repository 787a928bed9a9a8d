"""The pydantic models of every Slack payload the app listens to, told apart by :data:`PAYLOAD` (a tagged
union on the body's ``type``, or on ``command`` and ``ssl_check`` for the forms without one): slash
commands (a form), Slack's SSL check, ``block_actions``, ``view_submission``, ``view_closed``,
``block_suggestion``, ``url_verification`` and the events (``event_callback`` of ``app_home_opened``,
``app_uninstalled`` or ``tokens_revoked``). Types are strict (a number is not text, ``1`` is not true);
fields Slack adds are passed over. Ids must have Slack's shape (upper-case letters and digits), so an
actor is always a Slack id. :data:`WORDS` holds every field and tag name, the only parts of a refusal's
path that are shown."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    TypeAdapter,
    model_validator,
)
from pydantic_core import PydanticCustomError

SLACK_ID = re.compile(r"[A-Z][A-Z0-9]{1,29}")  # any Slack id: A…, B…, V…
IDS = {  # the kinds of id the app reads, by their first letter
    "user": re.compile(r"[UW][A-Z0-9]{2,29}"),
    "team": re.compile(r"[TE][A-Z0-9]{2,29}"),  # an org-wide install names the organisation (E…)
    "channel": re.compile(r"[CGD][A-Z0-9]{2,29}"),
    "enterprise": re.compile(r"E[A-Z0-9]{2,29}"),
}
TOKEN = re.compile(r"[\x21-\x7e]{1,255}")  # trigger ids, event ids, timestamps: printable ASCII, no space
EVENTS = ("app_home_opened", "app_uninstalled", "tokens_revoked")


def _slack_id(pattern: re.Pattern[str]) -> Any:
    """Text matching ``pattern`` whole (pydantic's patterns search, hence the anchors)."""
    return Annotated[str, StringConstraints(strict=True, pattern=f"^(?:{pattern.pattern})$")]


SlackId = _slack_id(SLACK_ID)
UserId = _slack_id(IDS["user"])
TeamId = _slack_id(IDS["team"])
ChannelId = _slack_id(IDS["channel"])
EnterpriseId = _slack_id(IDS["enterprise"])
Token = _slack_id(TOKEN)


def _length(low: int, high: int | None = None) -> AfterValidator:
    """Text of ``low`` to ``high`` characters, counted by Python: pydantic's own length constraint refuses
    text that is not UTF-8 (a lone surrogate, which JSON can carry) where the length alone matters."""

    def check(value: str) -> str:
        if len(value) < low:
            raise PydanticCustomError("string_too_short", "too short")
        if high is not None and len(value) > high:
            raise PydanticCustomError("string_too_long", "too long")
        return value

    return AfterValidator(check)


# an empty object where Slack may send one (an App Home click's ``view``, a ``channel``) stands for none
EMPTY_IS_NONE = BeforeValidator(lambda value: None if isinstance(value, dict) and not value else value)
# a slash command's ``enterprise_id`` is read only when it is set: an empty one stands for none
UNSET_IS_NONE = BeforeValidator(lambda value: value or None)


class Slack(BaseModel):
    """Strict types (a number is not text, 1 is not true); fields Slack adds are passed over: the
    listeners read the body itself, so nothing but the shape is kept (``extra="ignore"`` also takes
    keys of any kind, which ``"allow"`` would refuse)."""

    model_config = ConfigDict(strict=True, extra="ignore")


class Authorization(Slack):
    team_id: TeamId | None = None
    user_id: UserId | None = None
    enterprise_id: EnterpriseId | None = None
    is_enterprise_install: bool | None = None


class Enterprise(Slack):
    id: EnterpriseId | None = None


def _object_or_id(value: Any) -> str:
    return "as_object" if isinstance(value, dict) else "as_id"


class Payload(Slack):
    """What any payload may carry; an org-wide install names its ``enterprise`` as an object or an id."""

    token: str | None = None
    api_app_id: str | None = None
    authorizations: list[Authorization] | None = None
    enterprise: (
        Annotated[
            Annotated[Enterprise, Tag("as_object")] | Annotated[EnterpriseId, Tag("as_id")],
            Discriminator(_object_or_id),
        ]
        | None
    ) = None


class SlashCommand(Payload):
    """A form: every value is text."""

    command: str
    user_id: UserId
    team_id: TeamId
    channel_id: ChannelId
    trigger_id: Token
    enterprise_id: Annotated[EnterpriseId | None, UNSET_IS_NONE] = None
    text: str | None = None
    response_url: str | None = None


class SslCheck(Payload):
    ssl_check: str


class UrlVerification(Payload):
    type: Literal["url_verification"]
    challenge: Annotated[str, _length(1, 255)]


class Option(Slack):
    value: str


class Element(Slack):
    """An input in a view's (or a message's) state: its value is text, a selected option has one."""

    type: str | None = None
    value: str | None = None
    selected_option: Option | None = None
    selected_options: list[Option] | None = None


class State(Slack):
    values: dict[Any, dict[Any, Element]] | None = None  # {block_id: {action_id: element}}


class View(Slack):
    type: Annotated[str, _length(1)]
    id: str | None = None
    callback_id: str | None = None
    private_metadata: str | None = None
    external_id: str | None = None
    hash: str | None = None
    root_view_id: str | None = None
    team_id: TeamId | None = None
    app_installed_team_id: TeamId | None = None
    bot_id: SlackId | None = None
    app_id: SlackId | None = None
    state: State | None = None


class SubmittedView(View):
    """The view of a submission or a close: the listeners are told apart by its ``callback_id``."""

    callback_id: str


class User(Slack):
    id: UserId
    team_id: TeamId | None = None


class Team(Slack):
    id: TeamId


class Interaction(Payload):
    """What every interaction payload carries: the person who acted and their team (none from an
    org-wide install). Slack puts their ids in ``user`` and ``team``: a stray ``user_id`` or ``team_id``
    must still be an id, null included (pydantic checks a value given, never the default)."""

    user: User
    team: Team | None = None
    user_id: UserId = None
    team_id: TeamId = None


class Action(Slack):
    action_id: Annotated[str, _length(1, 255)]
    block_id: str | None = None
    type: str | None = None
    action_ts: str | None = None
    value: str | None = None
    selected_option: Option | None = None


class Channel(Slack):
    id: ChannelId


class Container(Slack):
    channel_id: ChannelId | None = None
    type: str | None = None
    message_ts: str | None = None
    view_id: str | None = None


class Message(Slack):
    ts: str | None = None
    thread_ts: str | None = None
    text: str | None = None
    user: str | None = None
    blocks: list[Any] | None = None


class BlockActions(Interaction):
    type: Literal["block_actions"]
    trigger_id: Token
    actions: Annotated[list[Action], Field(min_length=1, max_length=25)]
    channel: Annotated[Channel | None, EMPTY_IS_NONE] = None
    container: Container | None = None
    message: Message | None = None
    state: State | None = None
    view: Annotated[View | None, EMPTY_IS_NONE] = None
    response_url: str | None = None


class BlockSuggestion(Interaction):
    type: Literal["block_suggestion"]
    action_id: str
    value: str | None = None
    view: Annotated[View | None, EMPTY_IS_NONE] = None


class ResponseUrl(Slack):
    response_url: str
    channel_id: ChannelId | None = None


class ViewPayload(Interaction):
    """A modal submitted or closed: the view with its ``callback_id``, and where to answer."""

    view: SubmittedView
    response_urls: list[ResponseUrl] | None = None
    is_cleared: bool | None = None


class ViewSubmission(ViewPayload):
    type: Literal["view_submission"]
    trigger_id: Token


class ViewClosed(ViewPayload):
    type: Literal["view_closed"]


class AppHomeOpened(Slack):
    type: Literal["app_home_opened"]
    user: UserId
    channel: ChannelId | None = None
    tab: str | None = None
    view: Annotated[View | None, EMPTY_IS_NONE] = None


class AppUninstalled(Slack):
    type: Literal["app_uninstalled"]


class RevokedTokens(Slack):
    oauth: list[str] | None = None  # user ids, per kind of token
    bot: list[str] | None = None


class TokensRevoked(Slack):
    type: Literal["tokens_revoked"]
    tokens: RevokedTokens | None = None


class EventCallback(Payload):
    """An event from a team; one for a whole organisation (an org-wide install removed) names the
    organisation and no team."""

    type: Literal["event_callback"]
    team_id: TeamId | None = None
    enterprise_id: EnterpriseId | None = None
    event_id: Token
    event_time: int | None = None
    is_ext_shared_channel: bool | None = None
    event: Annotated[AppHomeOpened | AppUninstalled | TokensRevoked, Field(discriminator="type")]

    @model_validator(mode="after")
    def _names_its_team_or_organisation(self) -> EventCallback:
        if self.team_id is None and self.enterprise_id is None:
            raise PydanticCustomError("no_team", "names no team and no organisation")
        return self


TYPED = (  # the payloads with a ``type``; a form without one is told by its fields
    "block_actions",
    "block_suggestion",
    "view_submission",
    "view_closed",
    "event_callback",
    "url_verification",
)


def _kind(body: Any) -> str | None:
    """Which payload ``body`` is, or None: one with a ``type`` is what that names; one without is a
    slash command (``command``) or Slack's SSL check (``ssl_check``)."""
    if not isinstance(body, dict):
        return None
    if "type" in body:
        kind = body["type"]
        return kind if isinstance(kind, str) and kind in TYPED else None
    return "slash_command" if "command" in body else "ssl_check" if "ssl_check" in body else None


PAYLOAD: TypeAdapter[Any] = TypeAdapter(
    Annotated[
        Annotated[SlashCommand, Tag("slash_command")]
        | Annotated[SslCheck, Tag("ssl_check")]
        | Annotated[BlockActions, Tag("block_actions")]
        | Annotated[BlockSuggestion, Tag("block_suggestion")]
        | Annotated[ViewSubmission, Tag("view_submission")]
        | Annotated[ViewClosed, Tag("view_closed")]
        | Annotated[EventCallback, Tag("event_callback")]
        | Annotated[UrlVerification, Tag("url_verification")],
        Discriminator(
            _kind, custom_error_type="payload_kind", custom_error_message="not a payload the app listens to"
        ),
    ]
)


def _words() -> frozenset[str]:
    """Every field and tag name: a ``ValidationError``'s ``loc`` holds these, indices and the keys of
    ``state.values`` (block and action ids the payload chose, which the log does not repeat)."""
    seen: set[str] = {"as_object", "as_id", "slash_command", "ssl_check", *TYPED, *EVENTS}
    models: list[type[BaseModel]] = [Slack]
    while models:
        model = models.pop()
        seen.update(model.model_fields)
        models += model.__subclasses__()
    return frozenset(seen)


WORDS = _words()
