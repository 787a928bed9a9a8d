"""Slack's mrkdwn as HTML: ``*bold*``, ``_italics_``, ``~strike~``, `` `code` ``, code blocks, quotes,
links ``<url|text>``, mentions ``<@U…>`` / ``<#C…|name>`` / ``<!here>``, and dates
``<!date^ts^format|fallback>`` (shown as their fallback; the page formats them in the reader's zone).

Slack escapes ``&``, ``<`` and ``>`` in text as entities, so a raw ``<`` always opens a control
sequence. Everything that reaches the HTML is escaped here; only http(s) and mailto links are links.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

CODE_BLOCK = re.compile(r"```(.+?)```", re.S)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
CONTROL = re.compile(r"<([^<>\n]+)>")
SAFE_LINK = re.compile(r"^(https?://|mailto:)", re.I)


def _formatting(marker: str, tag: str) -> tuple[re.Pattern[str], str]:
    m = re.escape(marker)
    pattern = re.compile(rf"(?<![\w{m}]){m}(?=\S)([^{m}\n]*?\S){m}(?![\w{m}])")
    return pattern, rf"<{tag}>\1</{tag}>"


STYLES = [_formatting("*", "b"), _formatting("_", "i"), _formatting("~", "s")]


def unescape(text: str) -> str:
    """Slack's three entities back to characters (and nothing else, as Slack does)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def plain_html(text: str) -> str:
    """A plain_text object's text, escaped, line breaks kept."""
    return html.escape(str(text)).replace("\n", "<br>")


class _Tokens:
    """Pieces already turned into HTML, kept out of the formatting pass by placeholders."""

    def __init__(self) -> None:
        self.pieces: list[str] = []

    def hold(self, piece: str) -> str:
        self.pieces.append(piece)
        return f"\x00{len(self.pieces) - 1}\x00"

    def restore(self, text: str) -> str:
        return re.sub(r"\x00(\d+)\x00", lambda m: self.pieces[int(m.group(1))], text)


def mrkdwn_html(
    text: str, users: Mapping[str, str] | None = None, channels: Mapping[str, str] | None = None
) -> str:
    """The HTML of one mrkdwn text object; ``users`` and ``channels`` name the ids mentioned."""
    users, channels = users or {}, channels or {}
    tokens = _Tokens()
    text = str(text).replace("\x00", "")
    text = CODE_BLOCK.sub(lambda m: tokens.hold(f"<pre>{html.escape(unescape(m.group(1)))}</pre>"), text)
    text = INLINE_CODE.sub(lambda m: tokens.hold(f"<code>{html.escape(unescape(m.group(1)))}</code>"), text)
    text = CONTROL.sub(lambda m: tokens.hold(_control(m.group(1), users, channels)), text)
    text = html.escape(unescape(text), quote=False)
    for pattern, replacement in STYLES:
        text = pattern.sub(replacement, text)
    lines = []
    for line in text.split("\n"):
        if line.startswith("&gt; ") or line == "&gt;":
            line = f'<span class="quote">{line[5:]}</span>'
        lines.append(line)
    return tokens.restore("<br>".join(lines))


def _control(inner: str, users: Mapping[str, str], channels: Mapping[str, str]) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        name = label or users.get(target[1:], target[1:])
        return f'<span class="mention">@{html.escape(unescape(name))}</span>'
    if target.startswith("#"):
        name = label or channels.get(target[1:], target[1:])
        return f'<span class="mention">#{html.escape(unescape(name))}</span>'
    if target.startswith("!date^"):
        return _date(target, label)
    if target.startswith("!subteam^"):
        return f'<span class="mention">{html.escape(unescape(label or "@group"))}</span>'
    if target.startswith("!"):
        return f'<span class="mention">@{html.escape(target[1:])}</span>'
    url = unescape(target)
    shown = html.escape(unescape(label or target))
    if not SAFE_LINK.match(url):
        return shown
    return f'<a href="{html.escape(url)}" target="_blank" rel="noopener noreferrer">{shown}</a>'


def _date(target: str, fallback: str) -> str:
    parts = target.split("^")
    stamp = parts[1] if len(parts) > 1 else ""
    fmt = parts[2] if len(parts) > 2 else "{date_short_pretty}"
    shown = html.escape(unescape(fallback or stamp))
    if not stamp.lstrip("-").isdigit():
        return shown
    return f'<time class="sdate" data-ts="{stamp}" data-format="{html.escape(fmt)}">{shown}</time>'
