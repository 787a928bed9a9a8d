"""Logging, configured once by every entry point, with no secret in it at any level.

HTTP and OAuth libraries log what they send: at DEBUG, requests-oauthlib writes the access token and
the ``Authorization: Bearer`` header of every QuickBooks call. So the chatty libraries are held at
WARNING or above, and a filter on the root handlers redacts bearer and basic credentials,
``Authorization`` headers and the values of ``access_token``, ``refresh_token``, ``id_token``,
``client_secret`` and OAuth ``code`` in bodies, URLs and reprs, and Slack tokens — whatever logger
wrote them.
"""

from __future__ import annotations

import logging
import re

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"
# Libraries that log request headers, tokens or SQL parameters (encrypted tokens) when verbose.
CHATTY_LOGGERS = (
    "requests_oauthlib",
    "oauthlib",
    "urllib3",
    "requests",
    "intuitlib",
    "quickbooks",
    "sqlalchemy.engine",
)

_SECRET_NAMES = r"access_token|refresh_token|id_token|client_secret|password|secret_key"
_PATTERNS = [
    # Authorization headers, whatever their scheme (in header dumps and reprs), then any stray
    # Bearer or Basic credential.
    (re.compile(r"""(\bAuthorization['"]?\s*[:=]\s*['"]?)[^'"\r\n]+""", re.IGNORECASE), rf"\1{REDACTED}"),
    (re.compile(r"\b(Bearer|Basic)(\s+)[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE), rf"\1\2{REDACTED}"),
    # name=value (URLs, form bodies), "name": "value" (JSON), 'name': 'value' (reprs).
    (
        re.compile(rf"""(\b(?:{_SECRET_NAMES})['"]?\s*[:=]\s*['"]?)(?!None\b|null\b)[^'"&\s,}}]+"""),
        rf"\1{REDACTED}",
    ),
    # Slack tokens (bot, user, app-level), wherever they appear.
    (re.compile(r"\b(xox[abeoprs]|xapp)-[A-Za-z0-9-]+"), rf"\1-{REDACTED}"),
    # OAuth authorization codes: in a query string or form body, or a non-numeric "code" value
    # (QuickBooks fault codes such as "6140" stay readable).
    (re.compile(r"""((?:^|[?&\s])code=)[^&\s'"]+"""), rf"\1{REDACTED}"),
    (re.compile(r"""(\bcode['"]\s*:\s*['"])(?!\d+['"])[^'"]+"""), rf"\1{REDACTED}"),
]


def redact(text: str) -> str:
    """``text`` with every credential the patterns know replaced by ``[redacted]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites each record's message (and traceback) without its secrets; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the formatter to report
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def parse_level(value: str | int) -> int:
    """A logging level from a name (``"debug"``, ``"INFO"``) or a number; ValueError if neither."""
    if isinstance(value, int):
        return value
    level = logging.getLevelName(value.strip().upper())
    if not isinstance(level, int):
        raise ValueError(f"{value!r} is not DEBUG, INFO, WARNING or ERROR")
    return level


def configure_logging(level: str | int = logging.WARNING) -> None:
    """Set up logging for a process (safe to call again): the root level, one stderr handler if there
    is none, the redacting filter on every root handler, and the chatty libraries at WARNING or above."""
    number = parse_level(level)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format=LOG_FORMAT)
    root.setLevel(number)
    for handler in root.handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(number, logging.WARNING))
