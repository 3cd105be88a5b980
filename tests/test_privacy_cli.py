"""The operator's privacy commands: export, erase, retention run/set, leader add/remove."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from bot.cli import app
from bot.demo import create_demo_partnership
from bot.store import db
from bot.store.models import Member, ProcessedEvent
from bot.store.privacy import RetentionSettings
from tests.privacy_fakes import add_member, fill, traces

NOW = datetime.now(UTC)


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for key in ("SLACK_BOT_TOKEN", "TELEGRAM_BOT_TOKEN", "ACHTJE_LOG_LEVEL"):
        monkeypatch.delenv(key, raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    monkeypatch.setenv("ACHTJE_DATABASE_URL", url)
    return url


def seeded(url: str) -> tuple[int, int]:
    async def go() -> tuple[int, int]:
        engine, sessions = await db.connect(url)
        async with sessions() as session, session.begin():
            partnership = await create_demo_partnership(session, NOW, "test", "g")
            member = await add_member(session, partnership, "zeynep-7731", NOW)
            other = await add_member(session, partnership, "bert-4410", NOW)
            await fill(session, partnership, member, other, NOW)
            session.add(ProcessedEvent(platform="test", event_id="old",
                                       processed_at=NOW - timedelta(days=45)))
            ids = member.id, other.id
        await engine.dispose()
        return ids

    return asyncio.run(go())


def query(url: str, work: Callable[[AsyncSession], Awaitable[object]]) -> object:
    async def go() -> object:
        engine, sessions = await db.connect(url)
        async with sessions() as session:
            result = await work(session)
        await engine.dispose()
        return result

    return asyncio.run(go())


def test_export_prints_the_members_data_as_json(url: str) -> None:
    member_id, _ = seeded(url)
    done = CliRunner().invoke(app, ["export", "--member", str(member_id)])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["member"]["user_ref"] == "zeynep-7731"
    assert len(data["tables"]["answer"]) == 4 and "pitfall_vote" in data["tables"]
    missing = CliRunner().invoke(app, ["export", "--member", "999"])
    assert missing.exit_code == 1 and "no member with id 999" in missing.output


def test_export_prints_the_members_data_in_words(url: str) -> None:
    member_id, _ = seeded(url)
    done = CliRunner().invoke(app, ["export", "--member", str(member_id), "--readable"])
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Wat ik over je bewaar · ") and "- naam: zeynep-7731" in lines
    assert "Je antwoorden op de check-ins (4 antwoorden)" in lines
    english = CliRunner().invoke(app, ["export", "--member", str(member_id), "--readable",
                                       "--lang", "en"])
    assert english.stdout.startswith("What I keep about you · ")
    assert "Your check-in answers (4 answers)" in english.stdout
    wrong = CliRunner().invoke(app, ["export", "--member", str(member_id), "--readable",
                                     "--lang", "de"])
    assert wrong.exit_code == 1 and "--lang must be nl or en" in wrong.output


def test_erase_asks_unless_yes_and_leaves_no_trace(url: str) -> None:
    member_id, other_id = seeded(url)
    refused = CliRunner().invoke(app, ["erase", "--member", str(member_id)], input="n\n")
    assert refused.exit_code == 1 and "nothing erased" in refused.output
    done = CliRunner().invoke(app, ["erase", "--member", str(member_id), "--yes"])
    assert done.exit_code == 0, done.output
    assert f"erased member {member_id}" in done.stdout and "deleted 4 from answer" in done.stdout
    assert query(url, lambda s: traces(s, member_id, "zeynep-7731")) == []
    assert query(url, lambda s: s.get(Member, other_id)) is not None


def test_retention_run_and_set(url: str) -> None:
    seeded(url)
    done = CliRunner().invoke(app, ["retention", "run"])
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines() == ["processed_event: 1"]
    again = CliRunner().invoke(app, ["retention", "run"])
    assert again.stdout.splitlines() == ["nothing was old enough to remove"]
    changed = CliRunner().invoke(app, ["retention", "set", "--partnership", "1",
                                       "--answer-months", "12", "--open-text-months", "1"])
    assert changed.exit_code == 0, changed.output
    terms = query(url, lambda s: s.scalar(select(RetentionSettings)))
    assert isinstance(terms, RetentionSettings)
    assert (terms.answer_months, terms.open_text_months) == (12, 1)


def test_leader_add_and_remove(url: str) -> None:
    member_id, _ = seeded(url)
    added = CliRunner().invoke(app, ["leader", "add", "--member", str(member_id)])
    assert added.exit_code == 0 and "is now leader" in added.stdout
    assert query(url, lambda s: s.scalar(select(Member.role).where(Member.id == member_id))) \
        == "leader"
    CliRunner().invoke(app, ["leader", "remove", "--member", str(member_id)])
    assert query(url, lambda s: s.scalar(select(Member.role).where(Member.id == member_id))) \
        == "member"
    assert CliRunner().invoke(app, ["leader", "add", "--member", "999"]).exit_code == 1


def test_find_member_lists_every_row_of_a_person(url: str) -> None:
    member_id, _ = seeded(url)

    async def on_slack_too(session: AsyncSession) -> int:
        row = Member(partnership_id=1, platform="slack", user_ref="T1:U7",
                     display_name="Zeynep-7731", created_at=NOW)
        session.add(row)
        await session.commit()
        return row.id

    slack_id = query(url, on_slack_too)
    found = CliRunner().invoke(app, ["find-member", "zeynep"])
    assert found.exit_code == 0, found.output
    assert [line.split(":")[0] for line in found.stdout.splitlines()] == [
        f"member {member_id}", f"member {slack_id}"]
    assert "slack T1:U7 · partnership 1 (Demo Zorg & Welzijn) · member" in found.stdout
    by_id = CliRunner().invoke(app, ["find-member", "T1:U7"])
    assert by_id.stdout.startswith(f"member {slack_id}: Zeynep-7731")
    assert "bert" not in found.stdout
    for query_ in ("nobody", "%"):  # a LIKE wildcard is taken literally
        missing = CliRunner().invoke(app, ["find-member", query_])
        assert missing.exit_code == 1 and "no member with" in missing.output
    assert "find-member" in CliRunner().invoke(app, ["erase", "--help"]).stdout
