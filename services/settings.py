"""One settings object, read from the environment variables the contract names, validated at start.

Secrets are ``SecretStr``: they print as ``**********`` and are only unwrapped where they are used.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from services.errors import SettingsError
from services.store.secrets import key_problem

DEFAULT_DATABASE_URL = "sqlite:///qbsync.db"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


TEAM_ID = re.compile(r"^[TE][A-Z0-9]{1,30}$")
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{1,30}$")


def _split_ids(value: object) -> tuple[str, ...] | None:
    """``U0123,U0456`` (the documented form; spaces around the commas are fine) as a tuple of ids."""
    if value is None:
        return None
    if isinstance(value, str):
        items = tuple(item for item in (part.strip() for part in value.split(",")) if item)
    else:
        items = tuple(str(item).strip() for item in value)  # type: ignore[union-attr]
    wrong = [item for item in items if not SLACK_USER_ID.match(item)]
    if wrong:
        raise ValueError(
            f"{wrong[0][:40]!r} is not a Slack user id (like U0123ABCD); separate the ids with commas"
        )
    return items


class Settings(BaseSettings):
    """Everything qbsync reads from its environment."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    # Distribution mode ("Add to Slack" for many workspaces) when both are set.
    slack_client_id: str | None = Field(None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, validation_alias="SLACK_CLIENT_SECRET")
    slack_authorize_url: str = Field(
        "https://slack.com/oauth/v2/authorize", validation_alias="SLACK_AUTHORIZE_URL"
    )
    # The workspace (team id) the command line acts on when there are several.
    workspace: str | None = Field(None, validation_alias="QBSYNC_WORKSPACE")

    qbo_client_id: str | None = Field(None, validation_alias="QBO_CLIENT_ID")
    qbo_client_secret: SecretStr | None = Field(None, validation_alias="QBO_CLIENT_SECRET")
    qbo_redirect_uri: str | None = Field(None, validation_alias="QBO_REDIRECT_URI")
    qbo_environment: Literal["sandbox", "production"] = Field("sandbox", validation_alias="QBO_ENVIRONMENT")
    qbo_api_base_url: str | None = Field(None, validation_alias="QBO_API_BASE_URL")
    intuit_discovery_url: str | None = Field(None, validation_alias="INTUIT_DISCOVERY_URL")

    secret_key: SecretStr | None = Field(None, validation_alias="QBSYNC_SECRET_KEY")
    # Comma-separated in the environment: NoDecode keeps pydantic-settings from reading them as JSON.
    fixers: Annotated[tuple[str, ...] | None, NoDecode] = Field(None, validation_alias="QBSYNC_FIXERS")
    admins: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="QBSYNC_ADMINS")

    digest_channel: str | None = Field(None, validation_alias="QBSYNC_DIGEST_CHANNEL")
    digest_time: str = Field("08:00", validation_alias="QBSYNC_DIGEST_TIME")
    timezone: str = Field("UTC", validation_alias="QBSYNC_TIMEZONE")
    scheduler: Literal["on", "off"] = Field("on", validation_alias="QBSYNC_SCHEDULER")
    sync_every: int = Field(300, validation_alias="QBSYNC_SYNC_EVERY")  # seconds; "5m", "90s" accepted

    tms_webhook_secret: SecretStr | None = Field(None, validation_alias="QBSYNC_TMS_WEBHOOK_SECRET")
    qbo_webhook_verifier_token: SecretStr | None = Field(None, validation_alias="QBO_WEBHOOK_VERIFIER_TOKEN")
    # How often QuickBooks' changes are read when no webhook said so: unset = every minute without a
    # verifier token (webhooks off), every 15 minutes with one (a safety net for missed webhooks).
    changes_every: int | None = Field(None, validation_alias="QBSYNC_CHANGES_EVERY")
    public_url: str | None = Field(None, validation_alias="QBSYNC_PUBLIC_URL")

    # QuickBooks' limits per company and app (Intuit's published values; its pages disagree on the
    # batch size: 30 is the ceiling), and how bulk syncs use them.
    batch_size: int = Field(30, ge=1, le=30, validation_alias="QBSYNC_BATCH_SIZE")
    qbo_requests_per_minute: int = Field(500, ge=1, validation_alias="QBSYNC_QBO_REQUESTS_PER_MINUTE")
    qbo_batches_per_minute: int = Field(40, ge=1, validation_alias="QBSYNC_QBO_BATCHES_PER_MINUTE")
    qbo_in_flight: int = Field(10, ge=1, validation_alias="QBSYNC_QBO_IN_FLIGHT")
    qbo_throttle_attempts: int = Field(12, ge=1, validation_alias="QBSYNC_QBO_THROTTLE_ATTEMPTS")
    qbo_time_scale: float = Field(1.0, gt=0, validation_alias="QBSYNC_QBO_TIME_SCALE")
    # off: each process keeps QuickBooks' limits on its own (services.quickbooks.shared_budget)
    qbo_shared_limits: Literal["on", "off"] = Field("on", validation_alias="QBSYNC_QBO_SHARED_LIMITS")
    sync_workers: int = Field(8, ge=1, validation_alias="QBSYNC_SYNC_WORKERS")
    # How long a load being pushed stays claimed by a worker that stopped renewing (died, or lost
    # the database); renewed every third of it while the worker lives.
    claim_lease_seconds: float = Field(30, ge=1, le=3600, validation_alias="QBSYNC_CLAIM_LEASE_SECONDS")

    @field_validator("fixers", "admins", mode="before")
    @classmethod
    def _ids(cls, value: object) -> tuple[str, ...] | None:
        return _split_ids(value)

    @field_validator("admins", mode="after")
    @classmethod
    def _admins_default(cls, value: tuple[str, ...] | None) -> tuple[str, ...]:
        return value or ()

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        problem = key_problem(value.get_secret_value()) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value.startswith("postgres://"):
            value = "postgresql+psycopg://" + value[len("postgres://") :]
        elif value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://") :]
        if not (value.startswith("sqlite") or value.startswith("postgresql+psycopg")):
            raise ValueError("DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL")
        path = value.split("?", 1)[0].rstrip("/")
        if value.startswith("sqlite") and path.endswith(("sqlite:", ":memory:")):
            raise ValueError("an in-memory SQLite database is gone when the command ends: name a file")
        return value

    @field_validator("digest_time")
    @classmethod
    def _digest_time(cls, value: str) -> str:
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
        if not match:
            raise ValueError("QBSYNC_DIGEST_TIME must be HH:MM (24-hour clock)")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @field_validator("sync_every", mode="before")
    @classmethod
    def _sync_every(cls, value: object) -> int:
        match = re.fullmatch(r"(\d+)\s*([smh]?)", str(value).strip().lower())
        seconds = int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)] if match else 0
        if not 30 <= seconds <= 86400:
            raise ValueError("QBSYNC_SYNC_EVERY must be 30 seconds to 24 hours, e.g. 300, 90s, 5m or 1h")
        return seconds

    @field_validator("changes_every", mode="before")
    @classmethod
    def _changes_every(cls, value: object) -> int | None:
        if value is None or str(value).strip() == "":
            return None
        match = re.fullmatch(r"(\d+)\s*([smh]?)", str(value).strip().lower())
        seconds = int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)] if match else 0
        if not 10 <= seconds <= 86400:
            raise ValueError("QBSYNC_CHANGES_EVERY must be 10 seconds to 24 hours, e.g. 60, 90s, 15m or 1h")
        return seconds

    @property
    def changes_interval(self) -> int:
        """Seconds between two reads of QuickBooks' changes when no webhook asked for one."""
        if self.changes_every is not None:
            return self.changes_every
        token = self.qbo_webhook_verifier_token
        return 900 if token is not None and token.get_secret_value() else 60

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"QBSYNC_TIMEZONE {value!r} is not an IANA time zone") from exc
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parsed = urlparse(value.strip())
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(
                "QBSYNC_PUBLIC_URL must be an http:// or https:// address, e.g. https://qbsync.example.com"
            )
        return value.strip().rstrip("/")

    @field_validator("slack_api_url", "qbo_api_base_url", "slack_authorize_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("workspace")
    @classmethod
    def _workspace(cls, value: str | None) -> str | None:
        if value is not None and not TEAM_ID.fullmatch(value.strip()):
            raise ValueError(f"{value[:40]!r} is not a Slack team id (like T0123ABCD)")
        return value.strip() if value is not None else None

    @field_validator("qbo_api_base_url", "intuit_discovery_url")
    @classmethod
    def _intuit_https(cls, value: str | None) -> str | None:
        """QuickBooks and Intuit carry tokens: plain http only to this machine (the emulator)."""
        if value is not None and value.startswith("http://"):
            host = urlparse(value).hostname or ""
            if host not in LOOPBACK_HOSTS:
                raise ValueError(f"{value} uses plain http; only loopback addresses may (use https)")
        return value

    @property
    def qbo_api_base(self) -> str:
        """The QuickBooks API base for the configured environment, or the override."""
        if self.qbo_api_base_url:
            return self.qbo_api_base_url.rstrip("/")
        if self.qbo_environment == "production":
            return "https://quickbooks.api.intuit.com/v3"
        return "https://sandbox-quickbooks.api.intuit.com/v3"

    @property
    def public_base(self) -> str | None:
        """The app's public address: ``QBSYNC_PUBLIC_URL``, else the origin of ``QBO_REDIRECT_URI``."""
        if self.public_url:
            return self.public_url
        parsed = urlparse(self.qbo_redirect_uri or "")
        if parsed.scheme in ("http", "https") and parsed.netloc:
            return f"{parsed.scheme}://{parsed.netloc}"
        return None

    @property
    def connect_url(self) -> str | None:
        """Where the Connect buttons lead: ``{public}/qbo/connect``."""
        return f"{self.public_base}/qbo/connect" if self.public_base else None

    @property
    def web_redirect_uri(self) -> str | None:
        """The callback ``qbsync serve`` answers: ``{public}/qbo/callback``."""
        return f"{self.public_base}/qbo/callback" if self.public_base else None

    @property
    def intuit_environment(self) -> str:
        """What intuit-oauth's ``AuthClient`` takes as environment: a name, or a discovery URL."""
        return self.intuit_discovery_url or self.qbo_environment

    @property
    def qbo_limits(self):
        """The limiter's limits (``qbo_time_scale`` shortens the minute, as the emulator's does)."""
        # here, not at the top: importing the QuickBooks package loads its client libraries, which
        # every command reading its settings (``qbsync --help`` included) would pay for at start-up
        from services.quickbooks.limiter import Limits

        return Limits(
            requests_per_minute=self.qbo_requests_per_minute,
            batches_per_minute=self.qbo_batches_per_minute,
            in_flight=self.qbo_in_flight,
            minute=60.0 / self.qbo_time_scale,
        )

    @property
    def distribution(self) -> bool:
        """Many workspaces, each installed with "Add to Slack": ``SLACK_CLIENT_ID`` and its secret are set."""
        return bool(self.slack_client_id and self.slack_client_secret)

    def is_fixer(self, user_id: str) -> bool:
        return self.fixers is None or user_id in self.fixers

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.admins


def load_settings(**overrides: object) -> Settings:
    """Read and validate the environment; raise ``SettingsError`` with a one-line reason."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = [_problem(error) for error in exc.errors()]
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None
    except SourceError as exc:  # a value the environment source could not read at all
        field = re.search(r'field "(\w+)"', str(exc))
        name = Settings.model_fields[field.group(1)].validation_alias if field else None
        raise SettingsError(f"invalid configuration: {name or 'the environment'} cannot be read") from None


def _problem(error) -> str:
    """One validation error as "VARIABLE: what is wrong", without pydantic's "Value error, " prefix
    and without naming the variable twice."""
    where = (".".join(str(part) for part in error["loc"]) or "settings").upper()
    message = re.sub(r"^(Value error|Assertion failed), ", "", str(error["msg"]))
    return message if message.startswith(where + " ") else f"{where}: {message}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
