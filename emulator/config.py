"""Runtime settings of an emulator instance (some adjustable through ``POST /_emulator/config``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 8_726_400
AUTH_CODE_SECONDS = 300
WEBHOOK_FORMATS = ("cloudevents", "legacy")
DEFAULT_WEBHOOK_VERIFIER = "emulator-webhook-verifier"


@dataclass
class EmulatorConfig:
    latency_ms: int = 0
    fault_rate: float = 0.0
    rate_limit: int = 500  # requests per (scaled) minute per realm
    concurrency_limit: int = 10  # requests in flight per realm
    time_scale: float = 1.0  # 60 makes a "minute" last one second; token lifetimes shrink alike
    seed: int | None = None
    throttle_xml: bool = False
    client_id: str | None = None
    client_secret: str | None = None
    batch_limit: int = 30  # operations per batch request
    batch_rate_limit: int = 40  # batch requests per (scaled) minute per realm
    webhook_url: str | None = None  # None: no webhooks
    webhook_verifier: str = DEFAULT_WEBHOOK_VERIFIER  # key of the intuit-signature HMAC
    webhook_format: str = "cloudevents"  # or "legacy" (eventNotifications)
    webhook_delay_ms: int = 200  # from a change to its delivery (Intuit: seconds to minutes)
    webhook_duplicate_rate: float = 0.0  # fraction of deliveries sent twice
    webhook_batch_ms: int | None = None  # events due within this window go together (None: the delay)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if (
            self.rate_limit < 1
            or self.concurrency_limit < 1
            or self.batch_limit < 1
            or self.batch_rate_limit < 1
        ):
            raise ValueError("limits must be >= 1")
        if self.time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        if self.webhook_url is not None and not str(self.webhook_url).startswith(("http://", "https://")):
            raise ValueError("webhook_url must be an http:// or https:// URL, or null")
        if not isinstance(self.webhook_verifier, str) or not self.webhook_verifier:
            raise ValueError("webhook_verifier must be a non-empty string")
        if self.webhook_format not in WEBHOOK_FORMATS:
            raise ValueError(f"webhook_format must be one of {', '.join(WEBHOOK_FORMATS)}")
        if self.webhook_delay_ms < 0 or (self.webhook_batch_ms is not None and self.webhook_batch_ms < 0):
            raise ValueError("webhook_delay_ms and webhook_batch_ms must be >= 0")
        if not 0.0 <= self.webhook_duplicate_rate <= 1.0:
            raise ValueError("webhook_duplicate_rate must be between 0 and 1")

    @property
    def webhook_window(self) -> float:
        """Seconds: events due within this window of the first due one go in one delivery."""
        window = self.webhook_delay_ms if self.webhook_batch_ms is None else self.webhook_batch_ms
        return window / 1000.0

    @property
    def minute(self) -> float:
        """Length in seconds of the rate-limit window."""
        return 60.0 / self.time_scale

    def lifetime(self, seconds: int) -> float:
        return seconds / self.time_scale

    ADJUSTABLE = (
        "latency_ms",
        "fault_rate",
        "rate_limit",
        "concurrency_limit",
        "throttle_xml",
        "batch_limit",
        "batch_rate_limit",
        "webhook_url",
        "webhook_verifier",
        "webhook_format",
        "webhook_delay_ms",
        "webhook_duplicate_rate",
        "webhook_batch_ms",
    )

    def update(self, changes: dict[str, Any]) -> None:
        """Apply runtime changes; unknown keys or bad values raise ValueError (nothing applied)."""
        unknown = set(changes) - set(self.ADJUSTABLE) - {"concurrency"}
        if unknown:
            raise ValueError(f"cannot change: {', '.join(sorted(unknown))}")
        if "concurrency" in changes:
            changes = {**changes, "concurrency_limit": changes["concurrency"]}
            changes.pop("concurrency")
        candidate = EmulatorConfig(**{**asdict(self), **changes})
        for key in self.ADJUSTABLE:
            setattr(self, key, getattr(candidate, key))

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data["client_secret"] = "***" if self.client_secret else None
        data["webhook_verifier"] = "***"
        return data
