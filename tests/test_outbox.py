"""The outbox: neutral replies stored as JSON, one row per key, crash recovery, and several
sending processes sharing one PostgreSQL database."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.messages import (
    Choice,
    FreeText,
    Image,
    Invitation,
    Option,
    Reply,
    Scale,
    Text,
)
from bot.outbox import Envelope, dump_replies, enqueue, load_replies
from bot.schedule.holidays import load_holidays
from bot.schedule.rules import Changes, configure
from bot.store import db
from bot.store.models import Partnership
from bot.store.schedule import OutboxMessage
from scheduler import outbox
from scheduler.planner import plan_due
from scheduler.sender import WIDTH, Sender
from tests.conftest import POSTGRES_URL, postgres_only, reset_postgres
from tests.scheduler_fakes import HttpAdapter, add_members, fake_platform, utc

ROOT = Path(__file__).parent.parent
NOW = utc(2026, 11, 24, 14, 30)  # Tuesday 15:30 in Amsterdam
Sessions = async_sessionmaker[Any]


def test_replies_come_out_of_the_outbox_as_they_went_in() -> None:
    options = (Option("eens", "s:1:a:4"), Option("oneens", "s:1:a:2"))
    replies: list[Reply] = [
        Text(text="Hoi", private=True),
        Scale(prompt="1/3 ambitie", options=options, thread_of="t-1"),
        Choice(prompt="Welke?", options=options, edit_of="m-9"),
        FreeText(prompt="Wat helpt?", skip=Option("Overslaan", "f:1:a:skip")),
        FreeText(prompt="Nog iets?"),
        Invitation(text="Nieuwe ronde", button="Doe mee", action="cmd:checkin"),
        Image(png=b"\x89PNG\r\n\x00\xff", caption="november"),
    ]
    stored = dump_replies(replies)
    assert load_replies(stored) == replies
    assert stored[1]["options"][0] == {"label": "eens", "value": "s:1:a:4"}


def test_something_the_outbox_did_not_write_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown reply type"):
        load_replies([{"type": "Poll", "question": "?"}])
    with pytest.raises(ValueError, match="no field"):
        load_replies([{"type": "Text", "text": "x", "colour": "red"}])


def envelope(partnership_id: int, n: int, kind: str = "checkin", **extra: Any) -> Envelope:
    values: dict[str, Any] = {
        "kind": kind, "partnership_id": partnership_id, "recipient": f"member:{n}",
        "local_date": date(2026, 11, 24), "platform": "fake", "target": f"user-{n}",
        "direct": True, "replies": (Text(text=f"bericht {n}"),), "due_at": NOW,
        "expires_at": NOW + timedelta(hours=3), **extra,
    }
    return Envelope(**values)


async def new_partnership(sessions: Sessions) -> int:
    async with sessions() as session, session.begin():
        partnership = Partnership(name="P", created_at=NOW)
        session.add(partnership)
        await session.flush()
        return partnership.id


async def test_the_same_message_is_queued_once_however_often_it_is_planned(
    sessions: Sessions,
) -> None:
    pid = await new_partnership(sessions)
    async with sessions() as session, session.begin():
        assert await enqueue(session, [envelope(pid, 1), envelope(pid, 2)], NOW) == 2
    async with sessions() as session, session.begin():
        again = [envelope(pid, 1), envelope(pid, 1, local_date=date(2026, 12, 8))]
        assert await enqueue(session, again, NOW) == 1  # only the other day is new
    async with sessions() as session:
        keys = (await session.execute(select(OutboxMessage.target, OutboxMessage.local_date)
                                      .order_by(OutboxMessage.id))).all()
    assert [(t, d.isoformat()) for t, d in keys] == [
        ("user-1", "2026-11-24"), ("user-2", "2026-11-24"), ("user-1", "2026-12-08")]


async def test_rows_nobody_will_send_are_settled(sessions: Sessions) -> None:
    """Expired rows are not sent late; a row whose sender died mid-send may have arrived:
    a check-in is not sent again, a monthly summary is."""
    pid = await new_partnership(sessions)
    async with sessions() as session, session.begin():
        await enqueue(session, [envelope(pid, 1), envelope(pid, 2),
                                       envelope(pid, 3, kind="summary"), envelope(pid, 4)], NOW)
        for _ in range(2):
            row = await outbox.claim(session, NOW, timedelta(minutes=5), ["fake"], {})
            assert row is not None
        summary = await outbox.claim(session, NOW, timedelta(minutes=5), ["fake"],
                                     {"fake": ["user-1", "user-2"]})
        assert summary is not None and summary.kind == "summary"
    later = NOW + timedelta(minutes=10)
    async with sessions() as session, session.begin():
        assert await outbox.sweep(session, later) == {"expired": 0, "looked_up": 0,
                                                      "resent": 1, "uncertain": 2}
    async with sessions() as session, session.begin():
        assert await outbox.sweep(session, NOW + timedelta(hours=4)) == {
            "expired": 2, "looked_up": 0, "resent": 0, "uncertain": 0}
        assert await outbox.status_counts(session) == {"uncertain": 2, "expired": 2}


async def run_worker(database_url: str, fake_url: str, now: datetime,
                     barrier: Path | None = None) -> asyncio.subprocess.Process:
    args = ["-m", "tests.scheduler_fakes", "--db", database_url, "--fake", fake_url,
            "--now", now.isoformat()]
    if barrier is not None:
        args += ["--barrier", str(barrier)]
    return await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)


async def test_a_sender_killed_mid_fan_out_resumes_and_sends_nothing_twice(
    database_url: str, content: Content
) -> None:
    engine, sessions = await db.connect(database_url)
    try:
        async with sessions() as session, session.begin():
            partnership = Partnership(name="Tachtig", created_at=NOW)
            session.add(partnership)
            await session.flush()
            add_members(session, partnership.id, 80)
            await configure(session, load_holidays(), partnership,
                            Changes(first=date(2026, 11, 24)), NOW - timedelta(hours=1))
        assert await plan_due(sessions, content, load_holidays(), NOW) == 80

        async with fake_platform(kill_at=40) as fake:
            killed = await run_worker(database_url, fake.url, NOW)
            await asyncio.wait_for(killed.communicate(), timeout=60)
            assert killed.returncode == -signal.SIGKILL
            # Sends already on their way when it died may still arrive (one per other slot).
            assert 40 <= len(fake.received) < 40 + WIDTH
            fake.kill_at = None
            restarted = await run_worker(database_url, fake.url, NOW + timedelta(seconds=5))
            _, errors = await asyncio.wait_for(restarted.communicate(), timeout=60)
            assert restarted.returncode == 0, errors.decode()

            received = [r.chat for r in fake.received]
            assert fake.duplicates() == {}
            in_flight = fake.received[39].chat  # arrived, but the answer never came back
            async with sessions() as session:
                rows = dict((await session.execute(
                    select(OutboxMessage.target, OutboxMessage.status))).all())
            # What was in flight when the process died (at most one send per slot) is
            # still `sending`; everything else went out once.
            sending = {target for target, status in rows.items() if status == "sending"}
            assert in_flight in sending and len(sending) <= WIDTH
            sent = {t for t, status in rows.items() if status == "sent"}
            assert sent == set(rows) - sending
            # Every row marked sent arrived; what arrived unmarked was in flight.
            assert sent <= set(received) and set(received) - sent <= sending

            # Once their lease is over they are settled as uncertain, never sent again.
            later = NOW + timedelta(minutes=10)
            adapter = HttpAdapter(fake.url)
            await adapter.start()
            try:
                sender = Sender(sessions, {"fake": adapter}, clock=lambda: later)
                assert await sender.send_due() == 0
            finally:
                await adapter.stop()
            assert len(fake.received) == len(received)
        async with sessions() as session:
            row = await session.scalar(select(OutboxMessage)
                                       .where(OutboxMessage.target == in_flight))
        assert row is not None and row.status == "uncertain" and row.attempts == 1
    finally:
        await engine.dispose()


@pytest.mark.postgres
@postgres_only
async def test_three_processes_send_2000_due_messages_each_exactly_once(
    tmp_path: Path,
) -> None:
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    engine, sessions = await db.connect(POSTGRES_URL)
    try:
        pid = await new_partnership(sessions)
        rows = [
            {"kind": "checkin", "partnership_id": pid, "recipient": f"member:{n}",
             "local_date": date(2026, 11, 24), "platform": "fake", "target": f"user-{n}",
             "direct": True, "payload": dump_replies([Text(text=f"bericht {n}")]),
             "due_at": NOW, "expires_at": None, "status": "pending", "attempts": 0,
             "created_at": NOW}
            for n in range(2000)
        ]
        async with sessions() as session, session.begin():
            await session.execute(insert(OutboxMessage), rows)

        async with fake_platform() as fake:
            workers = [await run_worker(POSTGRES_URL, fake.url, NOW, tmp_path)
                       for _ in range(3)]
            for _ in range(1500):  # all three connected before any starts
                if len(list(tmp_path.glob("ready-*"))) == 3:
                    break
                await asyncio.sleep(0.02)
            (tmp_path / "go").touch()
            results = await asyncio.wait_for(
                asyncio.gather(*(w.communicate() for w in workers)), timeout=120)
            for worker, (_, errors) in zip(workers, results, strict=True):
                assert worker.returncode == 0, errors.decode()

        assert len(fake.received) == 2000
        assert fake.duplicates() == {}
        assert len({r.text for r in fake.received}) == 2000
        async with sessions() as session:
            assert await outbox.status_counts(session) == {"sent": 2000}
        shares = Counter(r.worker for r in fake.received)
        print(f"messages per process: {sorted(shares.values())}")
        assert len(shares) >= 2  # they really shared the work
    finally:
        await engine.dispose()
