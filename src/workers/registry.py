"""Every kind of work the worker does, declared in one place.

A queued job kind names its handler, its concurrency lane, how long one run may take and how
many attempts it gets. Lanes run side by side with bounded concurrency, so a webhook receiver
that hangs holds one webhook slot, never the rankings. Scheduled tasks (deadlines, reconcile,
retention) run on their own clock, whatever the queue holds; digests and e-mail are queued jobs
with a run_at, in their own lane, and the scheduled TED fetch is a queued job that queues
its successor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from asfmatch.storage import jobs, notices, notifications, outcomes, webhooks
from asfmatch.storage.jobs import Job
from asfmatch.storage.settings import Settings

Handler = Callable[[asyncpg.Pool, Job], Awaitable[None]]
Task = Callable[[asyncpg.Pool], Awaitable[None]]

# Slots per lane: how many jobs of the lane's kinds one worker process runs at once. Ranking is
# CPU work in this process, so two suffice (one stores while the other ranks); webhooks wait on
# other people's servers, so they get more.
# The TED fetch pages through a remote API and imports as it goes: one at a time.
LANES: dict[str, int] = {"ranking": 2, "webhooks": 8, "email": 2, "notices": 1}


@dataclass(frozen=True)
class JobKind:
    """A queued job kind: what runs it, in which lane, for how long, how many times."""

    name: str
    lane: str
    handler: Handler
    timeout_seconds: float
    attempts: int


@dataclass(frozen=True)
class ScheduledTask:
    """Work that runs every `every_seconds` (first at start-up), not from the queue."""

    name: str
    every_seconds: float
    timeout_seconds: float
    run: Task


@dataclass(frozen=True)
class Handlers:
    """The callables the registry wires up (the worker owns the objects behind them)."""

    rank_need: Handler
    rank_supplier: Handler
    digest: Handler
    email: Handler
    webhook: Handler
    fetch_notices: Handler
    schedule_notice_fetch: Task
    close_deadlines: Task
    lapse_verifications: Task
    follow_up: Handler
    buyer_question_email: Handler
    schedule_follow_ups: Task
    reconcile: Task
    retention: Task


def job_kinds(settings: Settings, handlers: Handlers) -> dict[str, JobKind]:
    """Every queued job kind, by name."""
    # A webhook attempt is bounded by its own request timeout; the margin covers DNS and the
    # database writes around it.
    webhook_timeout = settings.webhook_timeout_seconds + 30
    kinds = [
        JobKind(jobs.RANK_NEED, "ranking", handlers.rank_need, 300, 10),
        JobKind(jobs.RANK_SUPPLIER, "ranking", handlers.rank_supplier, 300, 10),
        JobKind(notifications.DIGEST_JOB, "email", handlers.digest, 60, 10),
        JobKind(notifications.EMAIL_JOB, "email", handlers.email, 120, 10),
        JobKind(webhooks.DELIVERY_JOB, "webhooks", handlers.webhook, webhook_timeout, 10),
        # A whole fetch run; TED being down is handled inside and never burns attempts.
        JobKind(notices.FETCH_JOB, "notices", handlers.fetch_notices, 3600, 3),
        # Asking about one need's outcome is a few inserts: the e-mail lane has room for it.
        JobKind(outcomes.FOLLOW_UP_JOB, "email", handlers.follow_up, 60, 10),
        JobKind(outcomes.BUYER_QUESTION_EMAIL_JOB, "email", handlers.buyer_question_email, 120, 10),
    ]
    return {kind.name: kind for kind in kinds}


def scheduled_tasks(settings: Settings, handlers: Handlers) -> list[ScheduledTask]:
    """Every scheduled task."""
    return [
        ScheduledTask(
            "close_deadlines", settings.deadline_check_seconds, 60, handlers.close_deadlines
        ),
        # Verifications lapse by the day; a profile read already treats one past its last day
        # as lapsed, this marks it and re-ranks its supplier.
        ScheduledTask(
            "lapse_verifications",
            settings.deadline_check_seconds,
            60,
            handlers.lapse_verifications,
        ),
        ScheduledTask("reconcile", settings.reconcile_seconds, 300, handlers.reconcile),
        ScheduledTask(
            "schedule_follow_ups", settings.outcome_check_seconds, 120, handlers.schedule_follow_ups
        ),
        ScheduledTask("retention", settings.retention_check_seconds, 600, handlers.retention),
        # Queues the first TED fetch when fetching is on and none is queued.
        ScheduledTask("schedule_notice_fetch", 60, 60, handlers.schedule_notice_fetch),
    ]
