"""Closed months are frozen: a project leader who asks for October before and after a member
is removed, erases themselves, moves to another level, or retention deletes the answers,
reads the same October; nothing can be worked out by subtraction. Plus the codec that
stores a summary, one threshold per partnership, and "no figures yet"."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.messages import Reply, Text
from bot.partnerships_cli import import_members
from bot.privacy import apply_retention
from bot.store.models import Member, Partnership
from bot.store.privacy import RetentionSettings
from bot.store.summary import SummaryMonth
from bot.summary import Summary, compute_summary, load_summary_rules
from bot.summary.codec import CodecError, decode, encode
from bot.summary.export import summary_document
from bot.summary.frozen import content_version, freeze_closed_months, published_summary
from tests.conftest import Clock
from tests.privacy_fakes import traces
from tests.summary_fakes import NOV, OCT, SEP, Partners, nudge_numbers

Sessions = async_sessionmaker[Any]
OCTOBER = date(2026, 10, 1)


@dataclass
class Team:
    partners: Partners
    teachers: list[int]
    managers: list[int]
    leader: MemoryChat


async def team(sessions: Sessions, engine: Engine) -> Team:
    """Six vmbo teachers and three mbo managers who scored in September and October (the
    teachers with open texts), and a project leader; the clock says 24 November."""
    partners = await Partners.create(sessions)
    teachers = await partners.members("vmbo", "teachers", 6)
    managers = await partners.members("mbo", "management", 3)
    for day, low in ((SEP, 2), (OCT, 1)):
        round_id = await partners.round(day, ["ambition_1", "relations_1"])
        await partners.answer(round_id, "ambition_1", teachers + managers,
                              [low, 3, 3, 4, 4, 5, 2, 3, 4],
                              ["Meer tijd samen", None, None, None, "Een vaste dag", None,
                               None, None, None])
        await partners.answer(round_id, "relations_1", teachers + managers,
                              [low, 4, 4, 4, 5, 5, 3, 3, 3])
    [leader_id] = await partners.members("mbo", "management", 1)
    async with sessions() as session, session.begin():
        leader = await session.get(Member, leader_id)
        assert leader is not None
        leader.role = "leader"
        user = leader.user_ref
    return Team(partners, teachers, managers, MemoryChat(engine, user=user, chat=f"dm-{user}"))


def texts(replies: list[Reply]) -> list[str]:
    return [reply.text for reply in replies if isinstance(reply, Text)]


async def user_of(sessions: Sessions, member_id: int) -> str:
    async with sessions() as session:
        member = await session.get(Member, member_id)
        assert member is not None
        return member.user_ref


async def live_october(sessions: Sessions, content: Content, partnership_id: int) -> Summary:
    """October recomputed from the rows left now: what a summary without freezing showed."""
    async with sessions() as session:
        partnership = await session.get(Partnership, partnership_id)
        assert partnership is not None
        return await compute_summary(session, content, partnership, OCTOBER)


async def remove_with_leden(team: Team, sessions: Sessions, content: Content) -> int:
    target = team.teachers[0]
    await team.leader.say("leden")
    await team.leader.press_value(f"lm:{target}")
    said = texts(await team.leader.press_value(f"lm:{target}:yes"))
    assert said and "gewist" in said[0], said
    return target


async def erase_themselves(team: Team, sessions: Sessions, content: Content) -> int:
    target = team.teachers[0]
    user = await user_of(sessions, target)
    chat = MemoryChat(team.leader.engine, user=user, chat=f"dm-{user}")
    await chat.say("privacy")
    await chat.press_value("avg:erase")
    assert texts(await chat.press_value("avg:erase_yes")) == [
        content.text("privacy_erased", "nl")]
    return target


async def import_new_level(team: Team, sessions: Sessions, content: Content) -> int:
    """`member import` moves the lone low-scoring teacher to the board."""
    target = team.teachers[0]
    row = {"partnership": str(team.partners.partnership.id), "platform": "test",
           "user": await user_of(sessions, target), "school": "Vmbo Noorderlicht",
           "level": "board", "name": "Persoon", "role": "member", "language": "nl"}
    async with sessions() as session, session.begin():
        assert await import_members(session, content, [row],
                                    datetime(2026, 11, 24, tzinfo=UTC)) == 1
    return target


async def retention(team: Team, sessions: Sessions, content: Content) -> int:
    """A term of one month, run on 1 December: every answer of September and October goes."""
    async with sessions() as session, session.begin():
        session.add(RetentionSettings(partnership_id=team.partners.partnership.id,
                                      answer_months=1, open_text_months=3,
                                      updated_at=datetime(2026, 11, 1, tzinfo=UTC)))
    report = await apply_retention(sessions, datetime(2026, 12, 1, 3, tzinfo=UTC), content)
    assert report.counts["answer"] == 36
    return team.teachers[0]


@pytest.mark.parametrize("change", [remove_with_leden, erase_themselves, import_new_level,
                                    retention])
async def test_october_reads_the_same_after_a_member_changes_or_goes(
    sessions: Sessions, engine: Engine, content: Content, change: Any
) -> None:
    team_ = await team(sessions, engine)
    pid = team_.partners.partnership.id
    before = texts(await team_.leader.say("samenvatting oktober"))
    assert "Gedeelde ambitie: 3,2 (n=9)" in before[0]  # 1+3+3+4+4+5+2+3+4 = 29
    assert '"Meer tijd samen"' in "\n".join(before)
    live = await live_october(sessions, content, pid)
    assert live.condition("ambition").mean == pytest.approx(29 / 9)

    user = await user_of(sessions, team_.teachers[0])

    gone = await change(team_, sessions, content)

    assert texts(await team_.leader.say("samenvatting oktober")) == before
    # Without the frozen month the numbers would have moved and given the person away.
    # (A level change no longer moves them even live: answers keep their group.)
    if change is not import_new_level:
        assert (await live_october(sessions, content, pid)).condition("ambition") \
            != live.condition("ambition")
    if change in (remove_with_leden, erase_themselves):
        async with sessions() as session:  # a full scan finds no trace of them
            assert await traces(session, gone) == []
            assert await session.scalar(select(Member.id).where(Member.user_ref == user)) \
                is None


async def test_october_is_stored_once_with_its_threshold_and_content_version(
    sessions: Sessions, engine: Engine, content: Content
) -> None:
    team_ = await team(sessions, engine)
    await team_.leader.say("samenvatting oktober")
    async with sessions() as session:
        rows = list(await session.scalars(select(SummaryMonth).order_by(SummaryMonth.month)))
    # From the month the first round closed in, every closed month: September and October.
    assert [(r.month, r.min_group_size) for r in rows] == [(date(2026, 9, 1), 3),
                                                           (OCTOBER, 3)]
    assert rows[1].content_version == content_version(content.folder)
    october = decode(Summary, rows[1].data)
    # October's trend takes September's mean as it was frozen.
    assert october.condition("ambition").trend[1] == decode(
        Summary, rows[0].data).condition("ambition").mean
    assert not any(word in json.dumps(rows[1].data) for word in ("Persoon", '"u1'))


async def test_a_month_before_the_first_round_has_no_figures_and_nothing_is_stored(
    sessions: Sessions, engine: Engine, content: Content
) -> None:
    team_ = await team(sessions, engine)
    for month in ("augustus", "2026-08", "2025-01"):
        said = texts(await team_.leader.say(f"samenvatting {month}"))
        assert said == [content.text("summary_no_figures", "nl",
                                     month="augustus 2026" if month != "2025-01"
                                     else "januari 2025")]
    assert texts(await team_.leader.say("samenvatting geen-maand"))[0] == content.text(
        "summary_which_month", "nl", example="oktober 2026")
    async with sessions() as session:
        assert list(await session.scalars(select(SummaryMonth.month))) == []


async def test_each_month_keeps_the_threshold_it_was_frozen_with(
    sessions: Sessions, engine: Engine, content: Content, clock: Clock
) -> None:
    team_ = await team(sessions, engine)
    partners = team_.partners
    round_id = await partners.round(NOV, ["ambition_1"])
    await partners.answer(round_id, "ambition_1", team_.managers, [2, 3, 4])
    october = texts(await team_.leader.say("samenvatting oktober"))
    async with sessions() as session, session.begin():
        partnership = await session.get(Partnership, partners.partnership.id)
        assert partnership is not None
        partnership.min_group_size = 4
    clock.now = datetime(2026, 12, 2, 9, tzinfo=UTC)  # November is over
    assert texts(await team_.leader.say("samenvatting oktober")) == october
    assert texts(await team_.leader.say("samenvatting november"))
    async with sessions() as session:
        rows = list(await session.scalars(select(SummaryMonth).order_by(SummaryMonth.month)))
    assert [(row.month, row.min_group_size) for row in rows] == [
        (date(2026, 9, 1), 3), (OCTOBER, 3), (date(2026, 11, 1), 4)]
    # Three managers scored in November: no number below the partnership's new threshold.
    ambition = decode(Summary, rows[2].data).condition("ambition")
    assert (ambition.mean, ambition.distribution) == (None, None)


async def test_frozen_open_texts_go_when_their_term_ends_and_the_numbers_stay(
    sessions: Sessions, engine: Engine, content: Content
) -> None:
    team_ = await team(sessions, engine)
    pid = team_.partners.partnership.id
    rules = load_summary_rules(content)

    async def october(now: datetime) -> dict[str, Any]:
        async with sessions() as session, session.begin():
            partnership = await session.get(Partnership, pid)
            assert partnership is not None
            found = await published_summary(session, content, partnership, OCTOBER, now=now)
            assert found is not None
            return summary_document(found, content, rules)

    before = await october(datetime(2026, 11, 24, tzinfo=UTC))
    assert [text for result in before["conditions"][0]["statement_results"]
            for text in result["open_answers"]] == ["Een vaste dag", "Meer tijd samen"]
    for day, kept in ((datetime(2027, 1, 31, tzinfo=UTC), True),
                      (datetime(2027, 2, 1, 1, tzinfo=UTC), False)):
        await apply_retention(sessions, day, content)
        after = await october(day)
        assert (after == before) is kept
        for topic, was in zip(after["conditions"], before["conditions"], strict=True):
            for result, was_result in zip(topic["statement_results"], was["statement_results"],
                                          strict=True):
                assert kept or not result["open_answers"]
                result["open_answers"] = was_result["open_answers"]
        assert after == before  # only the texts went, all at once


# The codec: a real summary survives the trip through JSON.


async def test_a_real_summary_round_trips_through_json(
    sessions: Sessions, content: Content
) -> None:
    partners = await Partners.create(sessions)
    vmbo = await partners.members("vmbo", "teachers", 5)
    mbo = await partners.members("mbo", "management", 4)
    for day in (SEP, OCT, NOV):
        round_id = await partners.round(day, ["ambition_1", "interests_1", "content_1"])
        await partners.answer(round_id, "ambition_1", vmbo + mbo,
                              [1, 2, 2, 1, 2, 5, 5, 4, 5], ["Tekst"] * 9)
        await partners.answer(round_id, "interests_1", vmbo + mbo,
                              [3, "dk", 3, 4, 3, 2, "skip", 1, 2])
    async with sessions() as session:
        partnership = await session.get(Partnership, partners.partnership.id)
        assert partnership is not None
        earlier = [await compute_summary(session, content, partnership, date(2026, m, 1))
                   for m in (9, 10)]
        summary = await compute_summary(session, content, partnership, date(2026, 11, 1),
                                        earlier=earlier, nudges=nudge_numbers(2, 8, 6, 4))
    ambition = summary.condition("ambition")
    assert ambition.sides and ambition.open_answers and summary.signals and summary.agenda
    assert summary.nudges is not None and ambition.trend[0] is not None
    stored = json.loads(json.dumps(encode(summary)))
    assert decode(Summary, stored) == summary


def test_the_codec_reads_data_from_before_a_field_was_added_and_refuses_the_wrong_type(
) -> None:
    @dataclass(frozen=True)
    class Later:
        month: date
        counts: tuple[int, ...]
        added: bool = False

    assert decode(Later, {"month": "2026-10-01", "counts": [1, 2]}) == Later(
        date(2026, 10, 1), (1, 2))
    with pytest.raises(CodecError):
        decode(Later, {"month": "2026-10-01", "counts": ["1"]})
    with pytest.raises(CodecError):
        encode(Later(date(2026, 10, 1), {1, 2}))  # type: ignore[arg-type]


async def test_freezing_twice_stores_nothing_new(
    sessions: Sessions, engine: Engine, content: Content
) -> None:
    team_ = await team(sessions, engine)
    now = datetime(2026, 11, 24, tzinfo=UTC)
    async with sessions() as session, session.begin():
        partnership = await session.get(Partnership, team_.partners.partnership.id)
        assert partnership is not None
        assert await freeze_closed_months(session, content, partnership, now) == 2
        assert await freeze_closed_months(session, content, partnership, now) == 0
