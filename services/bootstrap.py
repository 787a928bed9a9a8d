"""The composition root: one place that builds what every entry point needs from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from services.settings import Settings, get_settings
from services.storage import make_engine


@dataclass
class Services:
    settings: Settings
    engine: Engine
    extras: dict[str, object] = field(default_factory=dict)

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings | None = None, *, engine: Engine | None = None) -> Services:
    settings = settings or get_settings()
    return Services(settings=settings, engine=engine or make_engine(settings.database_url))
