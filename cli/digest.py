"""``qbsync digest``: today's digest of problem invoices, as text or JSON."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import click

from cli.render import problem_line, shown_time
from cli.runtime import open_services
from services.catalogue import money, reason_title
from services.digest.build import Digest, build_digest
from services.errors import ConfigurationError, QbsyncError


def render_digest(digest: Digest, tz: str = "UTC") -> str:
    """The digest as a few readable lines."""
    lines = [f"Invoice sync digest for {digest.date:%A %d %B %Y} ({tz})"]
    if digest.open == 0:
        lines.append("  No problem invoices: everything is in QuickBooks.")
    else:
        lines.append(f"  Open problem invoices: {digest.open}, {money(digest.total_amount)} in all")
    lines.append(f"  Problems that started today: {digest.new} · Fixed today: {digest.resolved}")
    if digest.dismissed:
        lines.append(f"  Dismissed (not to be synced, not counted above): {digest.dismissed}")
    if digest.by_reason:
        lines.append("")
        lines.append("  By reason:")
        for code, count in digest.by_reason.items():
            lines.append(f"    {count:>4}  {reason_title(code)} [{code}]")
    if digest.oldest:
        lines.append("")
        lines.append("  Oldest open problems:")

        def since(when: dt.datetime | None) -> str:
            return shown_time(when, tz)

        lines.extend(problem_line(problem, "    ", since=since, codes=True) for problem in digest.oldest)
    return "\n".join(lines)


def _post(svc) -> str:
    """Post today's digest now (not counted as the day's digest: the scheduled one still comes)."""
    if svc.settings.distribution and svc.workspace is not None:
        return _post_in_workspace(svc)
    missing = [
        name
        for name, value in (
            ("SLACK_BOT_TOKEN", svc.settings.slack_bot_token),
            ("QBSYNC_DIGEST_CHANNEL", svc.settings.digest_channel),
        )
        if not value
    ]
    if missing:
        raise ConfigurationError(
            "posting the digest needs SLACK_BOT_TOKEN and QBSYNC_DIGEST_CHANNEL "
            f"(not set: {', '.join(missing)})"
        )
    from cli.clock import slack_client
    from services.digest.channel import ChannelRefused, DigestStopped
    from services.digest.posting import post_on_demand
    from wiring.slack import digest_poster

    try:
        return post_on_demand(digest_poster(svc, slack_client(svc.settings)))
    except DigestStopped as exc:  # the channel or the token refused: what to do, in one line
        raise QbsyncError(f"the digest was not posted. {exc}") from None
    except ChannelRefused as exc:
        raise QbsyncError(f"Slack refused the digest ({exc.error})") from None


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the digest as JSON.")
@click.option(
    "--post", is_flag=True, help="Post the digest to QBSYNC_DIGEST_CHANNEL now (the daily one still comes)."
)
def digest_command(as_json: bool, post: bool) -> None:
    """Today's digest (in QBSYNC_TIMEZONE): open problem invoices, new and resolved today, by reason."""
    svc = open_services()
    if post:  # a missing setting exits 2; Slack refusing or out of reach, 1; a chart refused, 0
        click.echo(_post(svc))
        return
    tz = svc.settings.timezone
    digest = build_digest(svc.engine, today=dt.datetime.now(ZoneInfo(tz)).date(), tz=tz)
    if as_json:
        click.echo(json.dumps(digest.to_dict(), indent=2))
    else:
        click.echo(render_digest(digest, tz))


def _post_in_workspace(svc) -> str:
    """Distribution mode: with the bot token of the workspace's installation, to its digest channel."""
    from services.digest.channel import ChannelRefused, DigestStopped
    from services.digest.posting import post_on_demand
    from wiring.slack import digest_poster, workspace_client

    team = svc.workspace.team_id
    if not svc.settings.digest_channel:
        raise ConfigurationError(
            f"workspace {team} has no digest channel (an administrator sets it in the App Home)"
        )
    client = workspace_client(svc)
    if client is None:
        raise ConfigurationError(f"qbsync is not installed in workspace {team}: nothing can be posted there")
    try:
        return post_on_demand(digest_poster(svc, client))
    except DigestStopped as exc:
        raise QbsyncError(f"the digest was not posted. {exc}") from None
    except ChannelRefused as exc:
        raise QbsyncError(f"Slack refused the digest ({exc.error})") from None
