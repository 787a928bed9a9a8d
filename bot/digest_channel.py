"""The digest's channel in Slack: :class:`SlackDigestChannel` implements
``services.digest.channel.DigestChannel`` with the Web API — ``conversations.info`` and
``conversations.join``, ``chat.postMessage`` with message metadata (so a digest whose ts was lost is
found again with ``conversations.history``), and the chart through ``files.uploadV2``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.views.blocks import cut, escape
from bot.views.chart import chart_png
from bot.views.digest import METADATA_EVENT, digest_message, digest_metadata
from services.catalogue import money
from services.digest.channel import ChannelInfo, ChannelRefused, Posted


def chart_filename(day: dt.date) -> str:
    return f"qbsync-digest-{day.isoformat()}.png"


class SlackDigestChannel:
    """The digest's channel through ``client``; ``connect_url`` is shown when QuickBooks is not connected."""

    def __init__(self, client: WebClient, connect_url: str | None = None) -> None:
        self.client = client
        self.connect_url = connect_url

    @property
    def token(self) -> str | None:
        return getattr(self.client, "token", None)

    def _call(self, method: str, **arguments: Any) -> Any:
        try:
            return getattr(self.client, method)(**arguments)
        except SlackApiError as exc:
            response = exc.response
            if response is None:
                raise ChannelRefused("refused") from None
            raise ChannelRefused(str(response.get("error") or "refused"), response.get("needed")) from None

    def info(self, channel: str) -> ChannelInfo:
        found = self._call("conversations_info", channel=channel)["channel"]
        return ChannelInfo(
            found.get("name"),
            is_member=bool(found.get("is_member")),
            is_archived=bool(found.get("is_archived")),
            is_direct=bool(found.get("is_im")),
        )

    def join(self, channel: str) -> None:
        self._call("conversations_join", channel=channel)

    def bot_name(self) -> str | None:
        return self._call("auth_test").get("user")

    def post(
        self, channel: str, digest: Any, connection: Any, *, day: dt.date, tz: str, on_demand: bool
    ) -> Posted:
        body = digest_message(digest, connection, tz=tz, connect_url=self.connect_url, on_demand=on_demand)
        answer = self._call(
            "chat_postMessage",
            channel=channel,
            text=body["text"],
            blocks=body["blocks"],
            metadata=digest_metadata(channel, day, on_demand=on_demand),
            unfurl_links=False,
        )
        return Posted(answer["ts"], answer.get("channel") or channel)

    def post_text(self, channel: str, text: str) -> str:
        """A short notice (QuickBooks' changes): plain words, escaped so nothing in them (a customer's
        name from the TMS) becomes a link or a mention; Slack's 40,000-character text limit kept."""
        answer = self._call(
            "chat_postMessage",
            channel=channel,
            text=cut(escape(text), 40000),
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(answer["ts"])

    def upload_chart(self, channel: str, day: dt.date, points: Sequence[Any]) -> str:
        last = points[-1]
        answer = self._call(
            "files_upload_v2",
            channel=channel,
            content=chart_png(points),
            filename=chart_filename(day),
            title=f"Open problem invoices, {points[0].day:%b %d} – {day:%b %d}",
            alt_txt=(
                f"Chart of open problem invoices over the last {len(points)} days; "
                f"today {last.open}, {money(last.amount)} held up."
            ),
        )
        return answer["file"]["id"]

    def posted_digest(self, channel: str, day: dt.date, oldest: dt.datetime) -> str | None:
        for message in self._history(channel, oldest):
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == METADATA_EVENT
                and payload.get("day") == day.isoformat()
                and not payload.get("on_demand")
            ):
                return message["ts"]
        return None

    def posted_chart(self, channel: str, day: dt.date, oldest: dt.datetime) -> str | None:
        name = chart_filename(day)
        for message in self._history(channel, oldest):
            for uploaded in message.get("files") or []:
                if uploaded.get("name") == name:
                    return uploaded["id"]
        return None

    def _history(self, channel: str, oldest: dt.datetime) -> list[dict[str, Any]]:
        answer = self._call(
            "conversations_history",
            channel=channel,
            oldest=f"{oldest.timestamp():.6f}",
            include_all_metadata=True,
            limit=200,
        )
        return list(answer.get("messages") or [])
