"""Runs the tick and the dispatcher inside the bot process, through python-telegram-bot's JobQueue.
APScheduler only says when to look; what is due is always read from the database."""

from __future__ import annotations

import asyncio
import logging

from telegram.ext import Application, ContextTypes

from bot.context import AppContext
from handlers.sender import TelegramSender
from scheduler.dispatcher import Dispatcher
from scheduler.tick import TickReport, tick

log = logging.getLogger(__name__)
NEXT_TICK = "tick-next"


def run_tick(ctx: AppContext) -> TickReport:
    with ctx.db.session() as session:
        return tick(session, ctx.clock.now(), ctx.settings)


async def _tick_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx: AppContext = context.application.bot_data["app"]
    report = await asyncio.to_thread(run_tick, ctx)
    if report.planned or report.transitions:
        log.info("tick: planned %s message(s); phases %s", report.planned, report.transitions)
    dispatcher: Dispatcher | None = context.application.bot_data.get("dispatcher")
    if report.planned and dispatcher is not None:
        dispatcher.wake()
    queue = context.job_queue
    if queue is None or report.next_due is None:
        return
    # The clock may be a rehearsal clock: wait the same span of real time.
    delay = (report.next_due - ctx.clock.now()).total_seconds()
    if delay < ctx.settings.tick_interval:
        for job in queue.get_jobs_by_name(NEXT_TICK):
            job.schedule_removal()
        queue.run_once(_tick_job, when=max(delay, 0) + 0.5, name=NEXT_TICK)


async def start(application: Application) -> None:  # type: ignore[type-arg]
    ctx: AppContext = application.bot_data["app"]
    if ctx.settings.run_dispatcher:
        sender = TelegramSender(application.bot, ctx.settings.send_timeout)
        dispatcher = Dispatcher(ctx, {"telegram": sender})
        stop = asyncio.Event()
        application.bot_data["dispatcher"] = dispatcher
        application.bot_data["dispatcher_stop"] = stop
        application.bot_data["dispatcher_task"] = asyncio.create_task(dispatcher.run(stop), name="dispatcher")
    from handlers import broadcast

    broadcast.resume(application)
    if ctx.settings.run_scheduler and application.job_queue is not None:
        application.job_queue.run_repeating(_tick_job, interval=ctx.settings.tick_interval, first=0.5, name="tick")


async def stop(application: Application) -> None:  # type: ignore[type-arg]
    from handlers import broadcast

    await broadcast.stop_trackers(application)
    stop_event: asyncio.Event | None = application.bot_data.pop("dispatcher_stop", None)
    task: asyncio.Task[None] | None = application.bot_data.pop("dispatcher_task", None)
    application.bot_data.pop("dispatcher", None)
    if stop_event is not None and task is not None:
        stop_event.set()
        try:
            await asyncio.wait_for(task, 15)
        except TimeoutError:
            task.cancel()
