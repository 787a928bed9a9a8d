"""``qbsync playground``: try the Slack bot without a workspace — a local Slack-like page driving the real
app, against the QuickBooks emulator and the demo company with every reason present."""

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
def playground_command(port: int, open_browser: bool) -> None:
    """Try the Slack bot in a browser, no accounts: the real app, a local Slack stand-in, the QuickBooks
    emulator and a demo company in which every reason occurs. Ctrl-C stops everything."""
    from playground.runtime import Playground

    configure_logging()
    started = time.monotonic()
    stop = threading.Event()
    click.echo("qbsync playground: building the demo company (every reason present, none fixed)…", err=True)
    with Playground(port=port) as playground:
        for name in (signal.SIGINT, signal.SIGTERM):  # from here on Ctrl-C only asks to stop
            signal.signal(name, lambda *_: stop.set())
        click.echo(
            f"Ready in {time.monotonic() - started:.1f} s. Open {playground.url} — type /qbsync problems "
            "in #billing. Ctrl-C stops it.",
        )
        if open_browser:
            webbrowser.open(playground.url)
        while not stop.wait(0.5):
            pass
        click.echo(
            "\nStopping: the app, the Slack stand-in and the emulator; removing the database.", err=True
        )
    click.echo("Stopped.", err=True)
