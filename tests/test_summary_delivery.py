"""The scheduled monthly summary: the full version privately to each project leader, the
short one to each bound channel as one message with a thread, by the rules of the content
folder the bot runs with."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content, default_dir, load_content
from bot.messages import FIRST, Image, Reply, Text
from bot.outbox import load_replies
from bot.schedule.holidays import load_holidays
from bot.schedule.rules import Changes, configure
from bot.store.models import ChannelBinding, Member, Partnership
from bot.store.schedule import OutboxMessage
from bot.summary import load_summary_rules
from scheduler.planner import plan_due
from scheduler.sender import Sender
from tests.summary_fakes import NOV, OCT, Partners, png_size

HOLIDAYS = load_holidays()
PLANNED = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)  # Tuesday 1 December, 08:30 local
Sessions = async_sessionmaker[Any]


@dataclass
class Recorder:
    """An adapter that keeps every send call as it came."""

    platform: str = "test"
    calls: list[tuple[str, bool, list[Reply]]] = field(default_factory=list)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, chat: str, replies: Sequence[Reply]) -> None:
        self.calls.append((chat, False, list(replies)))

    async def send_direct(self, user: str, replies: Sequence[Reply]) -> None:
        self.calls.append((user, True, list(replies)))


async def scheduled(sessions: Sessions, roles: Sequence[tuple[str, str]] = ()) -> Partners:
    """Five teachers who scored shared ambition in October and November, members with
    these (role, language), a Slack-like channel and a Telegram group, and the summary
    schedule; nothing else is scheduled."""
    partners = await Partners.create(sessions)
    people = await partners.members("vmbo", "teachers", 5)
    for day, scores in ((OCT, [3, 3, 3, 2, 2]), (NOV, [4, 4, 4, 2, 2])):
        round_id = await partners.round(day, ["ambition_1"])
        await partners.answer(round_id, "ambition_1", people, scores,
                              [None, None, None, "Meer tijd", "Een gezamenlijke dag"])
    for role, language in roles:
        [member_id] = await partners.members("mbo", "management", 1)
        async with sessions() as session, session.begin():
            member = await session.get(Member, member_id)
            assert member is not None
            member.role, member.language, member.user_ref = role, language, f"{role}-{language}"
    async with sessions() as session, session.begin():
        partnership = await session.get(Partnership, partners.partnership.id)
        assert partnership is not None
        session.add_all([
            ChannelBinding(partnership_id=partnership.id, platform="test",
                           channel_ref="channel-zuid", created_at=PLANNED),
            ChannelBinding(partnership_id=partnership.id, platform="telegram",
                           channel_ref="-100777", created_at=PLANNED),
        ])
        await configure(session, HOLIDAYS, partnership,
                        Changes(checkins=False, nudges=False), datetime(2026, 11, 30, tzinfo=UTC))
    return partners


async def outbox(sessions: Sessions) -> dict[str, tuple[bool, list[Reply]]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind.startswith("summary"))
            .order_by(OutboxMessage.id))
        return {row.target: (row.direct, load_replies(row.payload)) for row in rows}


def texts(replies: Sequence[Reply]) -> str:
    return "\n".join(reply.text for reply in replies if isinstance(reply, Text))


async def test_leaders_get_it_in_full_and_each_channel_gets_the_scores_with_a_thread(
    sessions: Sessions, content: Content
) -> None:
    await scheduled(sessions, [("leader", "nl"), ("leader", "en"), ("admin", "nl"),
                               ("member", "nl")])
    assert await plan_due(sessions, content, HOLIDAYS, PLANNED) == 4
    rows = await outbox(sessions)
    # Admins are operators: they use `achtje summary`, or ask in chat.
    assert list(rows) == ["leader-nl", "leader-en", "channel-zuid", "-100777"]

    direct, full = rows["leader-nl"]
    assert direct and "Vertrouwelijk" in texts(full) and "Meer tijd" in texts(full)
    assert all(reply.thread_of is None for reply in full)
    assert "Shared ambition: 3.2 (n=5)" in texts(rows["leader-en"][1])

    direct, short = rows["channel-zuid"]
    assert not direct and rows["-100777"] == (False, short)
    scores, chart, agenda = short
    assert isinstance(scores, Text) and scores.thread_of is None
    assert scores.text.startswith("Leerlab Zuid, november 2026: 5 van 9 leden deden mee (56%)")
    assert "De vijf voorwaarden\n- Gedeelde ambitie: 3,2 (n=5), +0,6 t.o.v. vorige maand " \
           "(stijgend)\n- Recht doen aan belangen: deze maand niet gevraagd" in scores.text
    assert isinstance(chart, Image) and chart.thread_of == FIRST
    assert png_size(chart.png) == (1000, 800)
    assert isinstance(agenda, Text) and agenda.thread_of == FIRST
    assert agenda.text.startswith("Voor de agenda van het volgende overleg\n1. ")
    # Nothing for project leaders only: no open answers, pitfalls or confidential note.
    assert "samenvatting" not in agenda.text  # the command is for project leaders
    assert "Een andere maand zien?" in texts(full)
    for private in ("Meer tijd", "Valkuilen", "Vertrouwelijk", "Informeel contact"):
        assert private not in texts(short)


async def test_the_channel_version_goes_out_in_one_send_and_each_leader_in_one(
    sessions: Sessions, content: Content
) -> None:
    await scheduled(sessions, [("leader", "nl")])
    await plan_due(sessions, content, HOLIDAYS, PLANNED)
    recorder = Recorder()
    sender = Sender(sessions, {"test": recorder}, clock=lambda: PLANNED)
    await sender.send_due()

    assert [(chat, direct, len(replies)) for chat, direct, replies in recorder.calls] == [
        ("leader-nl", True, len((await outbox(sessions))["leader-nl"][1])),
        ("channel-zuid", False, 3),
    ]
    _, _, short = recorder.calls[1]
    assert [type(reply).__name__ for reply in short] == ["Text", "Image", "Text"]
    assert [reply.thread_of for reply in short] == [None, FIRST, FIRST]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The deployment's own content: a stricter `low` and its own question on the pitfall."""
    target = tmp_path / "content"
    shutil.copytree(default_dir(), target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for name, change in (
        ("summary_rules.yaml", lambda data: data["summary_rules"]["thresholds"].update(low=4.5)),
        ("summary_agenda.yaml", lambda data: data["agenda"]["pitfalls"].update(
            confusion_of_language={"nl": "Wat verstaan wij onder een doorlopende leerroute?",
                                   "en": "What do we mean by a continuous learning route?"})),
    ):
        path = target / name
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


async def test_the_scheduled_summary_follows_the_rules_in_the_content_folder(
    sessions: Sessions, folder: Path
) -> None:
    own = load_content(folder)  # what the running bot loads from ACHTJE_CONTENT_DIR
    assert own.folder == folder
    assert load_summary_rules(own).thresholds.low == 4.5
    await scheduled(sessions, [("leader", "nl")])
    await plan_due(sessions, own, HOLIDAYS, PLANNED)

    rows = await outbox(sessions)
    # Shared ambition at 3.2 is low by this folder's rules (below 4.5), not by the shipped 3.0.
    assert "Spraakverwarring (Gedeelde ambitie), omdat Gedeelde ambitie laag scoort (3,2)" \
        in texts(rows["leader-nl"][1])
    for target in ("leader-nl", "channel-zuid"):
        assert "1. Wat verstaan wij onder een doorlopende leerroute?" in texts(rows[target][1])
