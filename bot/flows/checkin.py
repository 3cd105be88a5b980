"""Answering a check-in round: scale statements, an optional follow-up, changing an answer."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import registry, rounds
from bot.flows.state import CHECKIN, FOLLOWUP, Statement
from bot.flows.turn import Turn, clean_text, typed_number
from bot.messages import FreeText, Noted, Option, Reply, Scale
from bot.store import repo
from bot.store.models import CheckInRound
from bot.store.schedule import scheduled_checkin

logger = logging.getLogger(__name__)

LOW_SCORES = (1, 2)
_DONT_KNOW = {"?", "dk", "weet niet", "weet ik niet", "dont know", "don't know", "no idea"}
_SKIP = {"-", "skip", "overslaan", "sla over", "pass"}
_VALUES = ("1", "2", "3", "4", "5", "dk", "skip")


@registry.command("checkin", "check-in", help=True, menu=True, order=3)
async def checkin(turn: Turn, _arg: str) -> list[Reply]:
    return await start(turn)


async def start(turn: Turn) -> list[Reply]:
    """Continue the open round of the member's partnership.

    With no round open, a partnership whose check-ins are scheduled hears when the next
    round starts; one without a schedule (the console demo) gets a round opened now.
    """
    round_ = await repo.open_round_at(turn.session, turn.partnership.id, turn.now)
    if round_ is None:
        scheduled = await scheduled_checkin(turn.session, turn.partnership.id)
        if scheduled is not None:
            return [_next_round(turn, scheduled.next_run_at)]
        round_ = await rounds.open_round(turn.session, turn.content, turn.partnership.id, turn.now)
    answered = await repo.answers(turn.session, round_.id, turn.member.id)
    if all(sid in answered for sid in round_.statement_ids):
        return [await _offer_change(turn, round_)]
    return [turn.say("checkin_intro", count=len(round_.statement_ids)),
            *await next_statement(turn, round_)]


async def next_statement(turn: Turn, round_: CheckInRound,
                         answered: Collection[str] | None = None) -> list[Reply]:
    """`answered`: the statements answered, when the caller has just read them."""
    if answered is None:
        answered = await repo.answers(turn.session, round_.id, turn.member.id)
    remaining = [sid for sid in round_.statement_ids if sid not in answered]
    if not remaining:
        await repo.clear_conversation(turn.session, turn.member.id)
        return [turn.say("checkin_done")]
    return [await ask_statement(turn, round_, remaining[0])]


async def ask_statement(turn: Turn, round_: CheckInRound, statement_id: str) -> Scale:
    await repo.set_conversation(turn.session, turn.member.id, CHECKIN,
                                Statement(round_.id, statement_id).to_json(), turn.now)
    return rounds.statement_scale(turn.content, turn.lang, round_, statement_id)


def _next_round(turn: Turn, when: datetime | None) -> Reply:
    if when is None:
        return turn.say("sched_no_round_planned")
    local = when.astimezone(ZoneInfo(turn.partnership.timezone))
    return turn.say("sched_next_round", weekday=turn.t(f"sched_weekday_{local.weekday()}"),
                    date=turn.content.day(local.date(), turn.lang),
                    time=local.strftime("%H:%M"))


def parse_typed_answer(text: str) -> str | None:
    """A typed answer to a scale: "1"-"5", a "don't know" or a "skip" word."""
    typed = text.strip().lower().rstrip(".!")
    number = typed_number(typed)
    if number is not None and 1 <= number <= 5:
        return str(number)
    if typed in _DONT_KNOW:
        return "dk"
    if typed in _SKIP:
        return "skip"
    return None


@registry.action("s")  # s:<round id>:<statement id>:<1-5|dk|skip>
async def act_answer(turn: Turn, parts: list[str]) -> list[Reply]:
    round_id, statement_id, value = int(parts[0]), parts[1], parts[2]
    if value not in _VALUES:
        raise ValueError(value)
    return await answer(turn, round_id, statement_id, value)


@registry.text_flow(CHECKIN, sentences=False, stopped="checkin_stopped")
async def typed_answer(turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
    """A score typed for the statement asked: a command word is a command here. A stop
    word leaves the check-in halfway: what was answered stays, `checkin` goes on there."""
    value = parse_typed_answer(text)
    if value is None:
        return [turn.say("checkin_typed_help")]
    asked = _statement(data)
    return await answer(turn, asked.round_id, asked.statement_id, value)


async def answer(turn: Turn, round_id: int, statement_id: str, value: str) -> list[Reply]:
    """Store one answer (new or changed) and move on: follow-up, next statement or done."""
    round_, answered = await repo.round_answered(turn.session, round_id, turn.member.id)
    if (
        round_ is None
        or round_.partnership_id != turn.partnership.id
        or statement_id not in round_.statement_ids
    ):
        logger.warning("answer for unknown round %s / statement %r", round_id, statement_id)
        return [turn.say("stale_button")]
    if not round_.opens_at <= turn.now < round_.closes_at:
        return [turn.say("round_closed")]
    if value in ("dk", "skip"):
        status, score = ("dont_know" if value == "dk" else "skipped"), None
    else:
        status, score = "scored", int(value)
    if statement_id in answered and not await _asking(turn, CHECKIN, round_.id, statement_id):
        # Answered before, and the conversation has moved on: a second tap, another
        # button of the same question, or a stale copy. The last choice stands; the next
        # question was asked already.
        await repo.answer_again(turn.session, round_.id, turn.member.id, statement_id,
                                status, score, turn.now)
        return [Noted()]
    await repo.save_answer(
        turn.session, round_id=round_.id, member_id=turn.member.id,
        statement_id=statement_id, status=status, score=score, now=turn.now,
    )
    if score in LOW_SCORES:
        return [await _ask_followup(turn, round_, statement_id)]
    return await next_statement(turn, round_, {*answered, statement_id})


async def _ask_followup(turn: Turn, round_: CheckInRound, statement_id: str) -> FreeText:
    """The statement's own follow-up: what would help, on exactly what was scored low."""
    question = turn.content.statement(statement_id).followup.get(turn.lang)
    await repo.set_conversation(turn.session, turn.member.id, FOLLOWUP,
                                Statement(round_.id, statement_id).to_json(), turn.now)
    return FreeText(
        prompt=turn.t("followup_prompt", question=question),
        skip=Option(turn.t("followup_skip"), f"f:{round_.id}:{statement_id}:skip"),
    )


@registry.action("f")  # f:<round id>:<statement id>:skip, the follow-up's skip button
async def act_followup_skip(turn: Turn, parts: list[str]) -> list[Reply]:
    return await followup(turn, int(parts[0]), parts[1], None)


@registry.text_flow(FOLLOWUP, stopped="checkin_stopped")
async def typed_followup(turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
    if typed_number(text) is not None:  # a score typed once more is no answer to "what helps?"
        return [turn.say("followup_not_number")]
    comment = None if parse_typed_answer(text) == "skip" else text
    asked = _statement(data)
    return await followup(turn, asked.round_id, asked.statement_id, comment)


def _statement(data: dict[str, Any]) -> Statement:
    asked = Statement.of(data)
    if asked is None:
        raise ValueError(f"no statement in {data!r}")
    return asked


async def followup(turn: Turn, round_id: int, statement_id: str, text: str | None) -> list[Reply]:
    """Keep the "what would help?" text (or nothing, when skipped) and go on.

    Not after the round closed: its month's summary may be final by then (docs/summary.md).
    """
    round_ = await turn.session.get(CheckInRound, round_id)
    if round_ is None or round_.partnership_id != turn.partnership.id:
        return [turn.say("stale_button")]
    if not await _asking(turn, FOLLOWUP, round_.id, statement_id):
        return [Noted()]  # this follow-up was answered or skipped already
    if turn.now >= round_.closes_at:
        await repo.clear_conversation(turn.session, turn.member.id)
        return [turn.say("round_closed")]
    replies: list[Reply] = []
    if text is not None:
        comment, shortened = clean_text(text)
        if comment and await repo.save_comment(
            turn.session, round_.id, turn.member.id, statement_id, comment
        ):
            replies.append(turn.say("followup_shortened" if shortened else "followup_thanks"))
    return replies + await next_statement(turn, round_)


@registry.action("change")  # change:<round id>:<statement id>
async def act_change(turn: Turn, parts: list[str]) -> list[Reply]:
    return await change(turn, int(parts[0]), parts[1])


async def change(turn: Turn, round_id: int, statement_id: str) -> list[Reply]:
    round_ = await turn.session.get(CheckInRound, round_id)
    if (
        round_ is None
        or round_.partnership_id != turn.partnership.id
        or statement_id not in round_.statement_ids
    ):
        return [turn.say("stale_button")]
    if not round_.opens_at <= turn.now < round_.closes_at:
        return [turn.say("round_closed")]
    if await _asking(turn, CHECKIN, round_.id, statement_id):
        return [Noted()]  # pressed twice: the statement is asked already
    return [await ask_statement(turn, round_, statement_id)]


async def _asking(turn: Turn, flow: str, round_id: int, statement_id: str) -> bool:
    """Whether the member's open question is this statement (or its follow-up)."""
    state = await repo.conversation(turn.session, turn.member.id)
    return (state is not None and state.flow == flow
            and Statement.of(state.data) == Statement(round_id, statement_id))


async def _offer_change(turn: Turn, round_: CheckInRound) -> Reply:
    answered = await repo.answers(turn.session, round_.id, turn.member.id)
    options = []
    for sid in round_.statement_ids:
        given = answered[sid]
        shown = str(given.score) if given.score else turn.content.scale.dont_know.get(turn.lang)
        if given.status == "skipped":
            shown = turn.content.scale.skip.get(turn.lang)
        statement = turn.content.statement(sid).text.get(turn.lang)
        short = statement if len(statement) <= 60 else statement[:57].rstrip() + "..."
        options.append(Option(f"{short} ({shown})", f"change:{round_.id}:{sid}"))
    return await turn.ask(turn.t("checkin_already_done"), options)
