"""`achtje outbox` as an operator runs it (the installed command, in a subprocess): what
failed or is uncertain and why, without the message, and sending one again on purpose."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.messages import Text
from bot.outbox import Envelope, enqueue
from bot.store.models import Partnership
from bot.store.schedule import OutboxMessage
from scheduler import outbox
from scheduler.sender import Sender
from tests.conftest import without_settings
from tests.scheduler_fakes import HttpAdapter, fake_platform

ACHTJE = Path(sys.executable).with_name("achtje")
DUE = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
SECRET = "Hoe gaat het met je, Anna?"  # what people were told: never in the list
Sessions = async_sessionmaker[Any]


def achtje(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = without_settings()
    return subprocess.run([str(ACHTJE), "outbox", *args], capture_output=True, text=True,
                          env={**env, "ACHTJE_DATABASE_URL": url}, timeout=60, check=False)


async def rows(sessions: Sessions) -> dict[str, OutboxMessage]:
    async with sessions() as session:
        return {r.target: r for r in await session.scalars(select(OutboxMessage))}


async def test_failed_and_uncertain_sends_are_listed_and_one_is_sent_again(
    database_url: str, sessions: Sessions,
) -> None:
    async with sessions() as session, session.begin():
        partnership = Partnership(name="P", created_at=DUE)
        session.add(partnership)
        await session.flush()
        pid = partnership.id
        await enqueue(session, [
            Envelope("checkin", pid, f"member:{n}", date(2026, 11, 24), "fake",
                            f"user-{n}", True, (Text(text=SECRET),), DUE + timedelta(minutes=n),
                            DUE + timedelta(hours=3))
            for n in (1, 2, 3)], DUE)
    found = await rows(sessions)
    async with sessions() as session, session.begin():
        await outbox.finish(session, found["user-1"].id, "failed", DUE,
                            "unreachable: user_not_found")
        await outbox.finish(session, found["user-2"].id, "uncertain", DUE,
                            "uncertain: no answer from Slack: ServerDisconnectedError()")
        await outbox.finish(session, found["user-3"].id, "sent", DUE)
    failed, uncertain, sent = (found[f"user-{n}"].id for n in (1, 2, 3))

    listed = achtje(database_url)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split("\t") == ["id", "status", "kind", "partnership", "recipient", "to",
                                    "due (UTC)", "attempts", "reason"]
    assert [line.split("\t") for line in lines[1:3]] == [
        [str(uncertain), "uncertain", "checkin", str(pid), "member:2", "fake:user-2",
         "2026-11-24 14:32", "0", "uncertain: no answer from Slack: ServerDisconnectedError()"],
        [str(failed), "failed", "checkin", str(pid), "member:1", "fake:user-1",
         "2026-11-24 14:31", "0", "unreachable: user_not_found"],
    ]
    assert lines[3] == "`achtje outbox resend ID` sends one of them again."
    assert SECRET not in listed.stdout and "Anna" not in listed.stdout
    assert achtje(database_url, "--partnership", str(pid + 1)).stdout == (
        "no failed or uncertain sends\n")

    resent = achtje(database_url, "resend", str(failed))
    assert resent.returncode == 0, resent.stderr
    assert resent.stdout == (f"outbox {failed} (checkin to member:1) is queued again; the "
                             "running service sends it on its next round\n")
    for row_id, refusal in [
        (failed, f"outbox {failed} is queued already (pending); nothing to do"),
        (sent, f"outbox {sent} was sent at 2026-11-24 14:30 UTC; it is not sent again"),
        (999_999, "no outbox message with id 999999"),
    ]:
        refused = achtje(database_url, "resend", str(row_id))
        assert (refused.returncode, refused.stderr.strip()) == (1, refusal)
        assert "Traceback" not in refused.stderr

    async with fake_platform() as fake:  # the service's sender takes it on its next round
        adapter = HttpAdapter(fake.url)
        await adapter.start()
        try:
            assert await Sender(sessions, {"fake": adapter}).send_due() == 1
        finally:
            await adapter.stop()
    assert [(r.chat, r.text) for r in fake.received] == [("user-1", SECRET)]
    after = await rows(sessions)
    assert [after[f"user-{n}"].status for n in (1, 2, 3)] == ["sent", "uncertain", "sent"]
    assert achtje(database_url).stdout.splitlines()[1].startswith(f"{uncertain}\tuncertain")
