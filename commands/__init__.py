"""The Slack listeners, grouped by kind: ``slash`` (the command), ``actions`` (buttons), ``views``
(modal submissions), ``options`` (pickers' options), ``events`` (App Home, uninstall) and ``errors``.
Each listener is a module-level function that takes what it needs by name — Bolt's arguments and
``deps``, the app's parts, which :func:`register` puts in every request's context."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse

from commands import actions, errors, events, options, settings, slash, views
from commands.common import Deps


def register(app: App, deps: Deps) -> None:
    def provide_deps(
        req: BoltRequest,
        context: BoltContext,
        next: Callable[[], None],  # noqa: A002 (Bolt's name)
    ) -> BoltResponse | None:
        scoped = deps.for_request(context)
        if scoped is None:  # distribution mode: a workspace not installed (or since removed)
            return not_installed(req, context)
        context["deps"] = scoped
        return next()

    app.middleware(provide_deps)
    for group in (slash, actions, views, options, events, settings, errors):
        group.register(app)


def not_installed(req: BoltRequest, context: BoltContext) -> BoltResponse:
    """The answer to a request from a workspace qbsync does not serve: a short sentence to a person, an
    empty acknowledgement to anything else (an event Slack would otherwise retry)."""
    from services.catalogue.workspaces import NOT_INSTALLED

    if isinstance(req.body, dict) and isinstance(req.body.get("command"), str):
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": NOT_INSTALLED})
    return BoltResponse(status=200, body="")
