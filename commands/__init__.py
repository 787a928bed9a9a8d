"""The Slack listeners, grouped by kind: ``slash`` (the command), ``actions`` (buttons), ``views``
(modal submissions), ``options`` (pickers' options), ``events`` (App Home, uninstall) and ``errors``.
Each listener is a module-level function that takes what it needs by name — Bolt's arguments and
``deps``, the app's parts, which :func:`register` puts in every request's context."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App, BoltContext

from commands import actions, errors, events, options, slash, views
from commands.common import Deps


def register(app: App, deps: Deps) -> None:
    def provide_deps(context: BoltContext, next: Callable[[], None]) -> None:  # noqa: A002 (Bolt's name)
        context["deps"] = deps
        next()

    app.middleware(provide_deps)
    for group in (slash, actions, views, options, events, errors):
        group.register(app)
