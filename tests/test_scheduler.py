"""The scheduler's jobs as configured: fixed ids, jobs named by import path, a misfire grace that fits
each job, coalescing, one instance at a time, the configured time zone."""

from __future__ import annotations

import threading

from slack_sdk import WebClient

from services.scheduler.jobs import CATCHUP_JOB, CHANGES_JOB, DIGEST_JOB, SYNC_JOB, build_scheduler
from wiring.slack import digest_channel


def test_jobs_ids_references_and_limits(svc):
    svc.settings = svc.settings.model_copy(
        update={"digest_channel": "C1", "timezone": "America/Chicago", "sync_every": 300}
    )
    scheduler = build_scheduler(
        svc, digest_channel=digest_channel(svc, WebClient(token="xoxb-x")), stop=threading.Event()
    )
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {DIGEST_JOB, CATCHUP_JOB, SYNC_JOB, CHANGES_JOB}
    assert jobs[CHANGES_JOB].func_ref == "services.scheduler.changes:changes_job"
    assert jobs[CHANGES_JOB].args[1] == 60, "without webhooks, QuickBooks' changes are read every minute"
    assert jobs[CHANGES_JOB].args[2] is not None and jobs[CHANGES_JOB].args[3] == "C1"
    assert jobs[DIGEST_JOB].func_ref == jobs[CATCHUP_JOB].func_ref == "services.scheduler.jobs:digest_job"
    assert jobs[SYNC_JOB].func_ref == "services.scheduler.autosync:sync_and_retry"
    assert jobs[DIGEST_JOB].misfire_grace_time == 12 * 3600
    assert jobs[SYNC_JOB].misfire_grace_time == jobs[CATCHUP_JOB].misfire_grace_time == 300
    assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())
    assert str(jobs[DIGEST_JOB].trigger.timezone) == "America/Chicago"
    assert str(jobs[DIGEST_JOB].trigger) == "cron[hour='8', minute='0']"


def test_without_slack_only_the_sync_and_changes_jobs(svc):
    scheduler = build_scheduler(svc)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {SYNC_JOB, CHANGES_JOB}
    assert jobs[CHANGES_JOB].args[2] is None, "no channel: QuickBooks' changes are still read, nobody is told"
