"""``qbsync playground``: try the Slack bot without a workspace — a local Slack-like page driving the real
app, against the QuickBooks emulator and the demo company with every reason present. ``--workspaces 2``:
two workspaces side by side, the app in distribution mode, each with its own company."""

from __future__ import annotations

import signal
import threading
import time
import webbrowser

import click

from cli.runtime import configure_logging


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port of the page on 127.0.0.1 (0: any free port).",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
@click.option(
    "--workspaces",
    type=click.IntRange(1, 2),
    default=1,
    show_default=True,
    help="2: two Slack workspaces side by side, each with its own QuickBooks company and TMS data "
    "(the app in distribution mode, installed in each with Add to Slack).",
)
def playground_command(port: int, open_browser: bool, workspaces: int) -> None:
    """Try the Slack bot in a browser, no accounts: the real app, a local Slack stand-in, the QuickBooks
    emulator and a demo company in which every reason occurs. Ctrl-C stops everything."""
    from playground.runtime import Playground

    configure_logging()
    started = time.monotonic()
    stop = threading.Event()
    building = (
        "building the demo company (every reason present, none fixed)"
        if workspaces == 1
        else "two workspaces — installing qbsync in each, connecting each to its own QuickBooks "
        "company, loading each one's TMS data"
    )
    click.echo(f"qbsync playground: {building}…", err=True)
    with Playground(port=port, workspaces=workspaces) as playground:
        for name in (signal.SIGINT, signal.SIGTERM):  # from here on Ctrl-C only asks to stop
            signal.signal(name, lambda *_: stop.set())
        if workspaces == 1:
            hint = "type /qbsync problems in #billing."
        else:
            number = playground.story.sample.number(412)
            hint = f"type /qbsync {number} in both workspaces: each answers from its own company."
        took = time.monotonic() - started
        click.echo(f"Ready in {took:.1f} s. Open {playground.url} — {hint} Ctrl-C stops it.")
        if open_browser:
            webbrowser.open(playground.url)
        while not stop.wait(0.5):
            pass
        databases = "the database" if workspaces == 1 else "the databases"
        stopping = f"Stopping: the app, the Slack stand-in and the emulator; removing {databases}."
        click.echo(f"\n{stopping}", err=True)
    click.echo("Stopped.", err=True)
