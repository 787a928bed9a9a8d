"""``qbsync emulator``: run the QuickBooks Online + Intuit OAuth emulator until Ctrl-C."""

from __future__ import annotations

import signal
import threading

import click

from emulator.config import DEFAULT_WEBHOOK_VERIFIER, WEBHOOK_FORMATS
from emulator.server import EmulatorServer


@click.command(name="emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8089,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--latency-ms", default=0, show_default=True, type=click.IntRange(min=0), help="Delay added to API calls."
)
@click.option(
    "--fault-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="Fraction of API calls that fail (500, 503 or dropped connection).",
)
@click.option(
    "--rate-limit",
    default=500,
    show_default=True,
    type=click.IntRange(min=1),
    help="Requests per minute per realm.",
)
@click.option(
    "--concurrency-limit",
    default=10,
    show_default=True,
    type=click.IntRange(min=1),
    help="Requests in flight per realm.",
)
@click.option(
    "--batch-rate-limit",
    default=40,
    show_default=True,
    type=click.IntRange(min=1),
    help="Batch requests per minute per realm (on top of the request limit).",
)
@click.option(
    "--time-scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.0, min_open=True),
    help="Speed-up of time: 60 makes a rate-limit minute last 1 s and divides token lifetimes by 60.",
)
@click.option("--seed", default=None, type=int, help="Seed for reproducible fault injection.")
@click.option(
    "--throttle-xml",
    is_flag=True,
    help="Answer throttled requests (429) in XML, as QuickBooks sometimes does.",
)
@click.option("--client-id", default=None, help="Only accept this OAuth client id (default: any).")
@click.option("--client-secret", default=None, help="Only accept this OAuth client secret (default: any).")
@click.option(
    "--webhook-url",
    default=None,
    help="POST webhook deliveries for Invoice, Customer, Item and Payment changes here (default: off).",
)
@click.option(
    "--webhook-verifier",
    default=DEFAULT_WEBHOOK_VERIFIER,
    show_default=True,
    help="Verifier token: the key of the intuit-signature HMAC.",
)
@click.option(
    "--webhook-format",
    default="cloudevents",
    show_default=True,
    type=click.Choice(WEBHOOK_FORMATS),
    help="CloudEvents array (Intuit's current format) or legacy eventNotifications.",
)
@click.option(
    "--webhook-delay-ms",
    default=200,
    show_default=True,
    type=click.IntRange(min=0),
    help="From a change to its delivery (Intuit: seconds to minutes); also the grouping window.",
)
@click.option(
    "--webhook-duplicate-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="Fraction of deliveries sent twice (seeded by --seed).",
)
@click.option(
    "--webhook-batch-ms",
    default=None,
    type=click.IntRange(min=0),
    help="Events due within this window go in one delivery (default: the delay).",
)
def emulator_command(
    host: str,
    port: int,
    latency_ms: int,
    fault_rate: float,
    rate_limit: int,
    concurrency_limit: int,
    batch_rate_limit: int,
    time_scale: float,
    seed: int | None,
    throttle_xml: bool,
    client_id: str | None,
    client_secret: str | None,
    webhook_url: str | None,
    webhook_verifier: str,
    webhook_format: str,
    webhook_delay_ms: int,
    webhook_duplicate_rate: float,
    webhook_batch_ms: int | None,
) -> None:
    """Run a local QuickBooks Online API v3 and Intuit OAuth 2.0 emulator."""
    try:
        server = EmulatorServer(
            host=host,
            port=port,
            latency_ms=latency_ms,
            fault_rate=fault_rate,
            rate_limit=rate_limit,
            concurrency_limit=concurrency_limit,
            batch_rate_limit=batch_rate_limit,
            time_scale=time_scale,
            seed=seed,
            throttle_xml=throttle_xml,
            client_id=client_id,
            client_secret=client_secret,
            quiet=False,
            webhook_url=webhook_url,
            webhook_verifier=webhook_verifier,
            webhook_format=webhook_format,
            webhook_delay_ms=webhook_delay_ms,
            webhook_duplicate_rate=webhook_duplicate_rate,
            webhook_batch_ms=webhook_batch_ms,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # from here on Ctrl-C only asks to stop
        signal.signal(signum, lambda *_: stop.set())
    server.start()  # serves in its own thread; this one waits for the signal
    try:
        click.echo(f"QuickBooks Online emulator listening on {server.url}")
        click.echo(f"  API base:       {server.api_base}   (QBO_API_BASE_URL)")
        click.echo(f"  Discovery URL:  {server.discovery_url}   (INTUIT_DISCOVERY_URL)")
        click.echo(f"  Default realm:  {server.realm_id}")
        click.echo(f"  Admin:          {server.url}/_emulator/ (reset, seed, stats, tokens, faults, config)")
        if webhook_url:
            click.echo(f"  Webhooks:       {webhook_format} to {webhook_url} (GET /_emulator/webhooks)")
        click.echo("Press Ctrl-C to stop.")
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    click.echo("\nEmulator stopped.")
