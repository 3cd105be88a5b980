"""Slack's per-method limits hold for all sender processes together.

Two sender processes (the real Slack adapter, `tests/slack_worker.py`) share one database
and one fake Slack over real HTTP. Scheduled check-ins reach each member's DM without a
`conversations.open` (a post to the user id lands in the DM). Then every row is put in
doubt, as after lost answers, so each next attempt first looks the posts up
(`conversations.history`, a per-workspace, per-method limit): the two processes together
never call it faster than its bucket allows, and nothing is posted twice.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.store.schedule import OutboxMessage
from tests.slack_fakes import FakeSlack
from tests.test_delivery_faults import NOW, ROOT, checkins_seen, due_checkins, statuses

MEMBERS = 10
CALL_RATE = 4.0  # the per-method limit the workers are given, calls a second (burst 1)


async def run_workers(database_url: str, api_url: str, count: int) -> None:
    """`count` sender processes on one clock, each draining until nothing is left."""
    since = time.time()
    workers = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.slack_worker", "--db", database_url, "--api-url", api_url,
        "--now", NOW.isoformat(), "--since", str(since), "--call-rate", str(CALL_RATE),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        for _ in range(count)]
    for worker in workers:
        _, errors = await asyncio.wait_for(worker.communicate(), timeout=120)
        assert worker.returncode == 0, errors.decode()[-2000:]


async def test_two_sender_processes_open_no_dm_and_share_the_per_method_limit(
    database_url: str, sessions: async_sessionmaker[Any], content: Content,
) -> None:
    fake = FakeSlack()
    await fake.start()
    try:
        assert await due_checkins(sessions, content, MEMBERS) == MEMBERS
        await run_workers(database_url, fake.api_url, 2)
        intro = content.text("sched_checkin_invite", "nl", count=6)
        wrong = {n: texts for n, texts in checkins_seen(fake, MEMBERS)
                 if len(texts) != 2 or texts[0] != intro}
        assert wrong == {}
        assert fake.of("conversations.open") == []
        posts = len(fake.of("chat.postMessage"))

        # Every row in doubt: each attempt looks in the DM's history first.
        async with sessions() as session, session.begin():
            await session.execute(update(OutboxMessage).values(
                status="pending", doubt=True, attempts=0, not_before=None))
        await run_workers(database_url, fake.api_url, 2)
        lookups = sorted(call.at for call in fake.of("conversations.history"))
        assert len(lookups) == MEMBERS
        # Both processes together: the n-th call no sooner than n - 1 intervals after the
        # first. The fake sees a call when it arrives, not when its token was taken, so one
        # interval is left for the first call's own delay on a busy machine, and 5% for the
        # two processes' clocks. Two processes with a bucket each would be twice as fast.
        early = [n for n, at in enumerate(lookups)
                 if at - lookups[0] < (n - 1) / CALL_RATE * 0.95]
        assert early == []
        assert fake.of("conversations.open") == []
        assert len(fake.of("chat.postMessage")) == posts  # found, not posted again
        assert await statuses(sessions) == {"sent": MEMBERS}
    finally:
        await fake.stop()
