"""The jobs that run by themselves, and the scheduler of ``qbsync clock`` (and of ``qbsync serve``
unless ``QBSYNC_SCHEDULER=off``): APScheduler 3 in the ``QBSYNC_TIMEZONE`` zone, with fixed job ids and jobs named by import path.

| id | when | does |
|---|---|---|
| ``daily_digest`` | every day at ``QBSYNC_DIGEST_TIME`` | the digest, once per channel and day |
| ``digest_catchup`` | at start, then every ``QBSYNC_SYNC_EVERY`` | the same job: a digest missed while down or left half done is completed (a no-op once posted, once Slack refused the channel or token that day, or before its time) |
| ``sync`` | at start, then every ``QBSYNC_SYNC_EVERY`` | ready loads pushed, transient reasons retried with back-off |
| ``qbo_changes`` | every 10 s | QuickBooks' changes read when a webhook said so or ``QBSYNC_CHANGES_EVERY`` passed; notices posted |
| ``workspaces`` | every 10 s | distribution mode, instead of the four above: each workspace's round of the same (``services.scheduler.workspaces``) |

Every job coalesces missed runs into one and never runs twice at once in a process; across processes
the database decides (the digest's claim, the sync lock). Each run is logged with its outcome.
"""  # noqa: E501

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from services.access.workspace import SlackAccessStore
from services.digest.channel import DigestChannel
from services.digest.posting import DigestPoster, daily_digest, poster_for
from services.scheduler.changes import TICK

log = logging.getLogger("qbsync.clock")

DIGEST_JOB = "daily_digest"
CATCHUP_JOB = "digest_catchup"
SYNC_JOB = "sync"
DIGEST_FUNC = "services.scheduler.jobs:digest_job"  # the day's digest, unless Slack access is lost
SYNC_FUNC = "services.scheduler.autosync:sync_and_retry"
CHANGES_JOB = "qbo_changes"
CHANGES_FUNC = "services.scheduler.changes:changes_job"
WORKSPACES_JOB = "workspaces"  # distribution mode: each workspace's round (services.scheduler.workspaces)
WORKSPACES_FUNC = "services.scheduler.workspaces:tick"
DIGEST_GRACE = 12 * 3600  # a late digest still goes out the same day (the job itself checks the day)


def digest_trigger(digest_time: str, tz: str) -> CronTrigger:
    hour, minute = (int(part) for part in digest_time.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=tz)


ONE_AT_A_TIME: dict[str, Any] = {"coalesce": True, "max_instances": 1}  # missed runs merged, never two


def build_scheduler(
    services: Any,
    *,
    digest_channel: DigestChannel | None = None,
    stop: threading.Event | None = None,
    rounds: Any = None,
) -> BackgroundScheduler:
    """The scheduler with its jobs added (not started). ``services`` holds the settings, the database
    engine, the QuickBooks connection, API and sync (``wiring.services.Services``). Without a
    ``digest_channel`` (the chat service's port) or a digest channel set, only the sync job is scheduled."""
    settings = services.settings
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=3)},
        job_defaults=ONE_AT_A_TIME,
        timezone=settings.timezone,
    )
    now = dt.datetime.now(dt.UTC)
    every = settings.sync_every
    if rounds is not None:  # many workspaces: each one's digest, sync and changes in its round
        scheduler.add_job(
            WORKSPACES_FUNC,
            trigger=IntervalTrigger(seconds=TICK, timezone=settings.timezone),
            args=[rounds],
            id=WORKSPACES_JOB,
            name="every workspace's digest, sync and QuickBooks changes",
            misfire_grace_time=TICK,
            next_run_time=now,
            **ONE_AT_A_TIME,
        )
        scheduler.add_listener(_log_run, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        return scheduler

    def every_few_minutes(func: str, job_id: str, name: str, **arguments: Any) -> None:
        """A job run at start and then every ``QBSYNC_SYNC_EVERY`` (coalesced, one at a time)."""
        scheduler.add_job(
            func,
            trigger=IntervalTrigger(seconds=every, timezone=settings.timezone),
            id=job_id,
            name=name,
            misfire_grace_time=every,
            next_run_time=now,
            **ONE_AT_A_TIME,
            **arguments,
        )

    if digest_channel is not None and settings.digest_channel:
        poster = poster_for(services, digest_channel)
        scheduler.add_job(
            DIGEST_FUNC,
            trigger=digest_trigger(settings.digest_time, settings.timezone),
            args=[poster],
            id=DIGEST_JOB,
            name="daily digest",
            misfire_grace_time=DIGEST_GRACE,
            **ONE_AT_A_TIME,
        )
        every_few_minutes(DIGEST_FUNC, CATCHUP_JOB, "daily digest (catch-up)", args=[poster])
    else:
        log.warning("no digest: it needs SLACK_BOT_TOKEN and QBSYNC_DIGEST_CHANNEL")
    every_few_minutes(SYNC_FUNC, SYNC_JOB, "automatic sync and retry", args=[services], kwargs={"stop": stop})
    notice_port = digest_channel if settings.digest_channel else None
    scheduler.add_job(
        CHANGES_FUNC,
        trigger=IntervalTrigger(seconds=TICK, timezone=settings.timezone),
        args=[services.changes, settings.changes_interval, notice_port, settings.digest_channel],
        id=CHANGES_JOB,
        name="QuickBooks changes and notices",
        misfire_grace_time=TICK,
        next_run_time=now,
        **ONE_AT_A_TIME,
    )
    scheduler.add_listener(_log_run, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return scheduler


def digest_job(poster: DigestPoster) -> str:
    """The digest jobs (daily and catch-up): skipped, without a call to Slack, while the app is
    uninstalled or its token revoked (logged once a day; ``services.access.workspace``)."""
    if SlackAccessStore(poster.engine).skip("digest", poster.slack.token):
        return "skipped: Slack no longer accepts the app"
    return daily_digest(poster)


def _log_run(event: JobExecutionEvent) -> None:
    if event.code == EVENT_JOB_MISSED:
        log.warning(
            "job %s: missed its run at %s (too late to run it now)", event.job_id, event.scheduled_run_time
        )
    elif event.exception is not None:
        log.error(
            "job %s: failed (%s: %s)",
            event.job_id,
            type(event.exception).__name__,
            event.exception,
            exc_info=(type(event.exception), event.exception, event.exception.__traceback__),
        )
    else:
        outcome = event.retval.summary() if hasattr(event.retval, "summary") else event.retval
        quiet = outcome == "nothing due"  # the changes job's ticks between two catch-ups
        log.log(logging.DEBUG if quiet else logging.INFO, "job %s: %s", event.job_id, outcome)


def describe(scheduler: BackgroundScheduler) -> list[str]:
    """One line per job: id, trigger and next run (for the start-up log)."""
    return [f"{job.id}: {job.trigger} (next {job.next_run_time})" for job in scheduler.get_jobs()]


def next_digest_at(digest_time: str, tz: str, now: dt.datetime | None = None) -> dt.datetime:
    """When the next daily digest is due (for the App Home)."""
    now = now or dt.datetime.now(dt.UTC)
    return digest_trigger(digest_time, tz).get_next_fire_time(None, now)
