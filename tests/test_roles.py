"""Who may do what: leaders lead, and nobody reaches another partnership's data, also not
with button values typed by hand."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot import registry
from bot.content import Content
from bot.demo import create_demo_partnership
from bot.engine import Engine
from bot.flows.binding import START_ACTION
from bot.flows.instruments.common import may_lead
from bot.flows.roles import is_leader
from bot.messages import Choice, Invitation, Text
from bot.store.instruments import (
    FigureEightCheck,
    PitfallPoll,
    PitfallVote,
    ReflectionAnswer,
    ReflectionSession,
    TalkPlate,
)
from bot.store.matrix import MatrixEntry
from bot.store.models import Answer, CheckInRound, Member, Partnership
from bot.store.nudges import NudgeAnswer, NudgeGroup, NudgeGroupMember, NudgeRound
from bot.store.schedule import Schedule
from tests.conftest import Clock, onboard
from tests.privacy_fakes import TEAM_TEXT, add_member, fill, traces

Sessions = async_sessionmaker[Any]


def test_leaders_and_admins_lead_members_do_not() -> None:
    for role, leads in (("member", False), ("leader", True), ("admin", True)):
        member = Member(role=role)
        assert is_leader(member) is leads and may_lead(member) is leads


async def other_partnership(sessions: Sessions, clock: Clock) -> dict[str, int]:
    """A second partnership with something of every kind, its ids by name."""
    async with sessions() as session, session.begin():
        other = await create_demo_partnership(session, clock.now, "test", "group-other")
        someone = await add_member(session, other, "other-user", clock.now, role="leader")
        plain = await add_member(session, other, "other-member", clock.now)
        round_ = CheckInRound(partnership_id=other.id, number=1, opens_at=clock.now,
                              closes_at=clock.now + timedelta(days=7),
                              statement_ids=["c1_s1"])
        reflection = ReflectionSession(partnership_id=other.id, number=1,
                                       statement_ids=["c1_s1"], opened_by=someone.id,
                                       opened_at=clock.now)
        poll = PitfallPoll(partnership_id=other.id, started_by=someone.id, started_at=clock.now)
        check = FigureEightCheck(partnership_id=other.id, school_a_id=other.schools[0].id,
                                 school_b_id=other.schools[1].id, started_by=someone.id,
                                 started_at=clock.now)
        plate = TalkPlate(partnership_id=other.id, started_by=someone.id, started_at=clock.now)
        nudge_round = NudgeRound(partnership_id=other.id, number=1, seed=1,
                                 planned_at=clock.now)
        session.add_all([round_, reflection, poll, check, plate, nudge_round])
        await session.flush()
        group = NudgeGroup(round_id=nudge_round.id, idea_id="coffee", cross_school=False)
        session.add(group)
        await session.flush()
        session.add(NudgeGroupMember(group_id=group.id, member_id=someone.id))
        return {"round": round_.id, "reflection": reflection.id, "poll": poll.id,
                "check": check.id, "plate": plate.id, "group": group.id,
                "school": other.schools[0].id, "member": plain.id, "partnership": other.id}


# Button values that name something of another partnership, per action kind of
# `bot.registry`: each carries the other partnership's ids where the kind takes one.
def foreign_values(ids: dict[str, int]) -> dict[str, list[str]]:
    round_, session, plate, member = ids["round"], ids["reflection"], ids["plate"], ids["member"]
    return {
        "school": [f"school:{ids['school']}"],
        "s": [f"s:{round_}:c1_s1:4", f"s:{round_}:c1_s1:dk"],
        "f": [f"f:{round_}:c1_s1:skip"],
        "later": [f"later:{round_}"],
        "change": [f"change:{round_}:c1_s1"],
        "rj": [f"rj:{session}"],
        "rs": [f"rs:{session}:c1:4"],
        "rn": [f"rn:{session}:ambition:skip", f"rn:{session}:ambition:keep"],
        "pv": [f"pv:{ids['poll']}:1"],
        "e8": [f"e8:{ids['check']}:0:4", f"e8:{ids['check']}:0:none"],
        "tp": [f"tp:{plate}:0:next", f"tp:{plate}:0:note", f"tp:{plate}:0:stop"],
        "nm": [f"nm:{ids['group']}:m", f"nm:{ids['group']}:n"],
        "lm": [f"lm:{member}", f"lm:{member}:yes", f"lm:{member}:no"],
        "avg": [f"avg:export:{member}", f"avg:erase_yes:{member}"],
        "sch": [f"sch:{ids['partnership']}:start",
                f"sch:{ids['partnership']}:set:cadence_weeks:1"],
    }


# Kinds whose values name nothing of a partnership: a level, a language, a pitfall of the
# content, weeks of pause, a command as typed, a step of the presser's own plan.
WITHOUT_IDS = {"level", "lang", "pitfall", "pause", "cmd", "mx", "model"}


def test_every_action_kind_is_tried_with_another_partnerships_ids() -> None:
    tried = set(foreign_values(dict.fromkeys(
        ("round", "reflection", "plate", "member", "school", "poll", "check", "group",
         "partnership"), 1)))
    untried = set(registry.action_kinds()) - tried - WITHOUT_IDS
    assert not untried, f"add values with another partnership's ids for: {sorted(untried)}"


async def test_ids_of_another_partnership_are_refused(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock
) -> None:
    member, leader = MemoryChat(engine, user="anna"), MemoryChat(engine, user="lea")
    for chat in (member, leader):  # first: with two partnerships a stranger is not enrolled
        await onboard(chat)
    ids = await other_partnership(sessions, clock)
    async with sessions() as session, session.begin():
        lea = await session.scalar(select(Member).where(Member.user_ref == "lea"))
        assert lea is not None
        lea.role = "leader"  # a leader of their own partnership, not of the other
        my_school = lea.school_id
    for value in (v for values in foreign_values(ids).values() for v in values):
        for chat in (member, leader):
            replies = await chat.press_value(value)
            shown = " ".join(getattr(r, "text", getattr(r, "prompt", "")) for r in replies)
            assert replies and "other-" not in shown, (chat.user, value, shown)
            assert all(not r.public for r in replies), (chat.user, value)
    async with sessions() as session:
        for table in (Answer, ReflectionAnswer, PitfallVote, NudgeAnswer, Schedule):
            assert await session.scalar(select(func.count()).select_from(table)) == 0, table
        check = await session.get(FigureEightCheck, ids["check"])
        plate = await session.get(TalkPlate, ids["plate"])
        assert check is not None and (check.next_step, check.completed_at) == (0, None)
        assert plate is not None and (plate.position, plate.finished_at) == (0, None)
        reflection = await session.get(ReflectionSession, ids["reflection"])
        assert reflection is not None and reflection.closed_at is None
        other = await session.get(Member, ids["member"])
        assert other is not None  # not removed
        lea = await session.scalar(select(Member).where(Member.user_ref == "lea"))
        assert lea is not None and lea.school_id == my_school


async def test_privacy_export_shows_only_ones_own_data(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock
) -> None:
    chat = MemoryChat(engine)
    await onboard(chat)  # first: with two partnerships a stranger is not enrolled
    ids = await other_partnership(sessions, clock)
    # The export takes no id: a value with someone else's id is just not understood.
    for value in (f"avg:export:{ids['member']}", f"avg:{ids['member']}"):
        replies = await chat.press_value(value)
        assert all("other-user" not in getattr(r, "text", "") for r in replies)
    await chat.say("privacy")
    replies = await chat.press("Mijn gegevens bekijken")
    assert "other-user" not in "".join(r.text for r in replies if isinstance(r, Text))


async def team_with_leader(engine: Engine, sessions: Sessions, partnership: Partnership,
                           clock: Clock) -> tuple[MemoryChat, dict[str, int]]:
    """Lea, project leader, in the partnership's group; Anna (with data in every table),
    Bert and a second leader, Kim. Returns Lea's group chat and the members' ids."""
    lea = MemoryChat(engine, user="lea")
    await onboard(lea)
    async with sessions() as session, session.begin():
        me = await session.scalar(select(Member).where(Member.user_ref == "lea"))
        assert me is not None
        me.role = "leader"
        anna = await add_member(session, partnership, "anna-5150", clock.now)
        bert = await add_member(session, partnership, "bert-4410", clock.now)
        kim = await add_member(session, partnership, "kim-2024", clock.now, role="leader")
        await fill(session, partnership, anna, bert, clock.now)
        ids = {"lea": me.id, "anna": anna.id, "bert": bert.id, "kim": kim.id}
    return MemoryChat(engine, user="lea", chat="group-1", direct=False), ids


async def test_a_leader_sees_who_takes_part_and_removes_a_member_after_confirming(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock
) -> None:
    group, ids = await team_with_leader(engine, sessions, partnership, clock)
    listed, pick, hint = await group.say("leden")
    assert all(reply.private for reply in (listed, pick, hint))  # names, only for her
    assert isinstance(listed, Text) and listed.text.splitlines() == [
        "Wie doet er mee in Demo Zorg & Welzijn (4):",
        "- anna-5150 · Vmbo De Brug · lid", "- bert-4410 · Vmbo De Brug · lid",
        "- kim-2024 · Vmbo De Brug · projectleider", "- lea · Vmbo De Brug · projectleider"]
    # Only members can be removed: not herself, not another leader.
    assert isinstance(pick, Choice) and [o.label for o in pick.options] == [
        "anna-5150", "bert-4410"]
    assert isinstance(hint, Text) and "leden uitnodigen" in hint.text

    [confirm] = await group.press("anna-5150")
    assert isinstance(confirm, Choice) and "niet ongedaan" in confirm.prompt
    [kept] = await group.press("Nee, toch niet")
    assert isinstance(kept, Text) and kept.text == "Goed, anna-5150 blijft erbij."
    await group.press_value(f"lm:{ids['anna']}")
    [done] = await group.press("Ja, verwijder anna-5150")
    assert isinstance(done, Text) and done.private and done.text.startswith(
        "anna-5150 doet niet meer mee")
    async with sessions() as session:
        assert await traces(session, ids["anna"], "anna-5150") == []
        assert await session.get(Member, ids["bert"]) is not None
        # The team's work stays, without her name.
        assert await session.scalar(select(MatrixEntry.text)) == TEAM_TEXT
    [gone] = await group.say("/members anna")
    assert isinstance(gone, Text) and gone.text.startswith("Ik vind niemand met 'anna'")


async def test_removing_needs_the_question_just_before_and_a_removable_member(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock,
    content: Content
) -> None:
    group, ids = await team_with_leader(engine, sessions, partnership, clock)
    [stale] = await group.press_value(f"lm:{ids['bert']}:yes")  # typed, never asked
    assert isinstance(stale, Text) and "verlopen" in stale.text
    [other_leader] = await group.press_value(f"lm:{ids['kim']}")
    assert isinstance(other_leader, Text) and "beheerder" in other_leader.text
    [herself] = await group.press_value(f"lm:{ids['lea']}:yes")
    assert isinstance(herself, Text) and "privacy" in herself.text
    listed, pick, _ = await group.say("leden BERT")  # part of a name, any case
    assert isinstance(listed, Text) and listed.text.splitlines()[1:] == [
        "- bert-4410 · Vmbo De Brug · lid"]
    assert isinstance(pick, Choice) and [o.value for o in pick.options] == [f"lm:{ids['bert']}"]
    # A member can neither list nor remove, also not with a value typed by hand.
    bert = MemoryChat(engine, user="bert-4410", chat="group-1", direct=False,
                      platform="test")
    refused = Text(text=content.text("leaders_only", "nl"), private=True)
    assert await bert.say("leden") == [refused]
    await group.press_value(f"lm:{ids['anna']}")  # Lea was asked about Anna ...
    assert await bert.press_value(f"lm:{ids['anna']}:yes") == [refused]  # ... not Bert
    async with sessions() as session:
        for who in ("anna", "bert", "kim", "lea"):
            assert await session.get(Member, ids[who]) is not None, who


async def test_a_leader_invites_the_group_to_join(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock
) -> None:
    group, _ = await team_with_leader(engine, sessions, partnership, clock)
    [invitation] = await group.say("leden uitnodigen")
    assert isinstance(invitation, Invitation) and invitation.public
    assert invitation.action == START_ACTION and "Demo Zorg & Welzijn" in invitation.text
    [elsewhere] = await MemoryChat(engine, user="lea").say("leden uitnodigen")
    assert isinstance(elsewhere, Text) and "in de groep" in elsewhere.text
    # Someone new in the group presses it and is welcomed into the partnership.
    newcomer = MemoryChat(engine, user="noor", chat="group-1", direct=False)
    [welcome, *_] = await newcomer.press_value(START_ACTION)
    assert isinstance(welcome, Text) and "Demo Zorg & Welzijn" in welcome.text


async def test_help_names_the_leaders_commands_to_leaders_only(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock,
    content: Content
) -> None:
    group, _ = await team_with_leader(engine, sessions, partnership, clock)
    [for_lea] = await group.say("help")
    member = MemoryChat(engine, user="anna-5150")
    [for_anna] = await member.say("help")
    assert isinstance(for_lea, Text) and isinstance(for_anna, Text)
    assert for_anna.text == HELP.format(partnership=partnership.name)
    assert for_lea.text == for_anna.text + "\n\n" + HELP_LEADERS
    for command in ("samenvatting", "rooster", "leden"):
        assert f"- {command}:" in for_lea.text


async def test_a_board_member_is_told_of_the_dashboard_and_the_mail_not_of_leading(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock
) -> None:
    await team_with_leader(engine, sessions, partnership, clock)
    async with sessions() as session, session.begin():
        anna = await session.scalar(select(Member).where(Member.user_ref == "anna-5150"))
        assert anna is not None
        anna.level = "board"
    [help_] = await MemoryChat(engine, user="anna-5150").say("help")
    assert isinstance(help_, Text)
    assert help_.text == HELP.format(partnership=partnership.name) + "\n\n" + HELP_BOARD


# Help as it reads, built from each command's line in content/ (`command_<name>`).
HELP = """Ik ben achtje, de assistent van {partnership}. Dit kun je typen:
- checkin: beantwoord de vragen van deze ronde (een minuut)
- valkuilen: de vijf valkuilen van samenwerken en wat helpt
- instrumenten: reflectie, het achtje, de impactmatrix en de praatplaat
- koffie uit / koffie aan: wel of geen koffiekoppels
- pauze: een paar weken geen vragen en uitnodigingen
- taal: Nederlands of Engels
- privacy: wat ik bewaar en wie wat ziet
- uitleg: het model achter achtje (voorwaarden, borden, complexiteit), of bijvoorbeeld \
uitleg ambitie"""
HELP_LEADERS = """Als projectleider kun je ook typen:
- samenvatting: de samenvatting van vorige maand (of een eerdere, bijvoorbeeld \
samenvatting oktober); een maand is af als hij voorbij is
- rooster: wanneer check-ins, herinneringen, koffiekoppels en samenvattingen uitgaan, en dat \
aanpassen
- leden: wie er meedoet, iemand uitnodigen of verwijderen
- reflectie start: een reflectiesessie in het teamoverleg
- dashboard: een link naar het overzicht van het schooljaar (voor projectleiders en bestuur)
- mail: de maandelijkse samenvatting per e-mail (mail uit, mail aan)"""
HELP_BOARD = """Als bestuurder kun je ook typen:
- dashboard: een link naar het overzicht van het schooljaar (voor projectleiders en bestuur)
- mail: de maandelijkse samenvatting per e-mail (mail uit, mail aan)"""


async def test_help_in_english_names_each_command_by_a_word_that_runs_it(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock
) -> None:
    group, _ = await team_with_leader(engine, sessions, partnership, clock)
    await group.say("taal en")
    [help_] = await group.say("help")
    assert isinstance(help_, Text)
    lines = help_.text.splitlines()
    assert lines[0] == f"I'm achtje, the assistant of {partnership.name}. You can type:"
    assert "As a project leader you can also type:" in lines
    listed = [line[2:].partition(":")[0] for line in lines if line.startswith("- ")]
    assert listed == ["checkin", "pitfalls", "instruments", "coffee off / coffee on", "pause",
                      "language", "privacy", "explain", "summary", "schedule", "members",
                      "reflection start", "dashboard", "mail"]
    for typed in listed:  # every word shown is one the bot knows, as that very command
        for each in typed.split(" / "):
            name, arg = registry.parse_command(each)
            assert name is not None, each
            command = registry.find(name)
            assert command is not None and command.help, each
            assert arg in ("", "uit", "aan", "off", "on", *command.leader_words), each
