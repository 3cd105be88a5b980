"""A sender process with the real Slack adapter, pointed at a fake Slack:
`python -m tests.slack_worker --db URL --api-url URL --now ISO`. Tests kill it mid-send
(SIGKILL) to see what a crash leaves behind."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from adapters.slack import SlackAdapter
from adapters.slack.limits import LIMITS
from adapters.web import WebServer
from bot.content import load_content
from bot.engine import Engine
from bot.rates import Rate
from bot.settings import Settings
from bot.store import db
from scheduler.ratelimit import RateLimiter
from scheduler.sender import Sender
from tests.slack_fakes import BOT_TOKEN, SIGNING_SECRET


async def work(database: str, api_url: str, now: str, since: float | None = None,
               call_rate: float | None = None) -> int:
    started, t0 = datetime.fromisoformat(now), time.monotonic()

    def clock() -> datetime:
        if since is not None:  # one clock for all workers: `now` at wall time `since`
            return started + timedelta(seconds=time.time() - since)
        return started + timedelta(seconds=time.monotonic() - t0)

    slack = LIMITS  # as the platform describes itself
    if call_rate is not None:  # Slack's per-method limits, all at this rate (burst 1)
        slack = replace(LIMITS, calls={method: Rate(call_rate) for method in LIMITS.calls})

    engine, sessions = await db.connect(database)
    settings = Settings.model_validate({
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "ACHTJE_SLACK_API_URL": api_url})
    adapter = SlackAdapter(settings, Engine(sessions, load_content(), clock),
                           WebServer("127.0.0.1", 0))
    await adapter.start()
    try:
        limiter = RateLimiter(lambda: clock().timestamp(), {"slack": slack}, sessions=sessions)
        sender = Sender(sessions, {"slack": adapter}, clock=clock, limiter=limiter,
                        check_after=timedelta(seconds=0.1))
        return await sender.drain(asyncio.sleep)
    finally:
        await adapter.stop()
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Send the outbox to a fake Slack.")
    parser.add_argument("--db", required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--now", required=True, help="the sender's clock starts here (ISO)")
    parser.add_argument("--since", type=float, help="wall time (epoch) the clock is --now")
    parser.add_argument("--call-rate", type=float, help="Slack's per-method calls a second")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    handled = asyncio.run(work(args.db, args.api_url, args.now, args.since, args.call_rate))
    print(f"handled {handled}")


if __name__ == "__main__":
    main()
