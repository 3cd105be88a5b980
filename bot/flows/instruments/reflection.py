"""The reflection session of a team meeting: a project leader opens it in the channel, each
participant privately scores one statement per condition, and when the leader closes it the
channel sees the aggregate per condition (numbers only for groups of three or more) and the
two conditions to talk about, each with a question for the conversation.

The aggregate is shown once, at closing, in the chat where the session was opened: an
interim total followed by a later one would let anyone work out the score of whoever
answered in between.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from bot.content import CONDITION_IDS
from bot.flows.checkin import parse_typed_answer
from bot.flows.instruments.common import (
    MIN_GROUP,
    bar,
    first_word,
    forget,
    may_lead,
    public,
    scale_options,
)
from bot.flows.roles import leaders_only
from bot.flows.turn import Turn
from bot.messages import Invitation, Option, Reply, Scale, Text
from bot.store import instruments as store
from bot.store import repo
from bot.store.instruments import ReflectionAnswer, ReflectionSession

logger = logging.getLogger(__name__)

START_WORDS = {"start", "begin", "open", "nieuw", "new"}
CLOSE_WORDS = {"sluit", "sluiten", "close", "stop", "einde", "end", "klaar"}
STATUS_WORDS = {"stand", "status"}
FLOW = "reflection"
TALK_ABOUT = 2


@dataclass(frozen=True)
class ConditionResult:
    condition: str
    respondents: int
    mean: float | None  # None when fewer than MIN_GROUP people scored it


async def command(turn: Turn, arg: str) -> list[Reply]:
    """`reflectie` answers the open session; `start`, `sluit` and `stand` are for leaders."""
    word = first_word(arg)
    if word in START_WORDS:
        return await start(turn)
    if word in CLOSE_WORDS:
        return await close(turn)
    if word in STATUS_WORDS:
        return await status(turn)
    session = await store.open_session(turn.session, turn.partnership.id)
    if session is None:
        if may_lead(turn.member):
            start_button = Option(turn.t("reflection_start_button"), "cmd:reflectie start")
            return [await turn.ask(turn.t("reflection_none_leader"), [start_button])]
        return [turn.say("reflection_none")]
    return await next_statement(turn, session, intro=True)


async def start(turn: Turn) -> list[Reply]:
    if not may_lead(turn.member):
        return leaders_only(turn)
    session = await store.open_session(turn.session, turn.partnership.id)
    replies: list[Reply] = []
    if session is not None:
        replies.append(turn.say("reflection_already_open"))
    else:
        number = await store.last_session_number(turn.session, turn.partnership.id) + 1
        statements = [condition.statements[(number - 1) % len(condition.statements)].id
                      for condition in (turn.content.condition(c) for c in CONDITION_IDS)]
        session = ReflectionSession(partnership_id=turn.partnership.id, number=number,
                                    statement_ids=statements, opened_by=turn.member.id,
                                    opened_at=turn.now, chat_ref=turn.incoming.chat[:100])
        turn.session.add(session)
        await turn.session.flush()
        logger.info("reflection session %s opened in partnership %s", session.id,
                    turn.partnership.id)
    replies.append(public(Invitation(
        text=turn.t("reflection_invite", number=session.number, minimum=MIN_GROUP),
        button=turn.t("reflection_join"), action=f"rj:{session.id}",
    )))
    replies.append(await turn.ask(turn.t("reflection_leader_next"),
                                  [Option(turn.t("reflection_join"), f"rj:{session.id}")]))
    return replies


async def status(turn: Turn) -> list[Reply]:
    """How many have answered so far: a count, never a score."""
    if not may_lead(turn.member):
        return leaders_only(turn)
    session = await store.open_session(turn.session, turn.partnership.id)
    if session is None:
        return [turn.say("reflection_none_open")]
    answers = await store.session_answers(turn.session, session.id)
    return [turn.say("reflection_status", number=session.number,
                     count=len({a.member_id for a in answers}), minimum=MIN_GROUP)]


async def close(turn: Turn) -> list[Reply]:
    if not may_lead(turn.member):
        return leaders_only(turn)
    session = await store.open_session(turn.session, turn.partnership.id)
    if session is None:
        return [turn.say("reflection_none_open")]
    if turn.incoming.chat[:100] != session.chat_ref:
        return [turn.say("reflection_close_there")]  # the result belongs where it began
    session.closed_at = turn.now
    await forget(turn)
    answers = await store.session_answers(turn.session, session.id)
    logger.info("reflection session %s closed with %s respondents", session.id,
                len({a.member_id for a in answers}))
    return [public(Text(text=render_result(turn, session, answers)))]


async def join(turn: Turn, session_id: int) -> list[Reply]:
    """The invitation's button: this person's private questions."""
    session = await _session(turn, session_id)
    if session is None:
        return [turn.say("stale_button")]
    if session.closed_at is not None:
        return [turn.say("reflection_closed")]
    return await next_statement(turn, session, intro=True)


async def answer(turn: Turn, session_id: int, condition: str, value: str) -> list[Reply]:
    """Store (or change) one score and ask the next statement."""
    session = await _session(turn, session_id)
    if session is None or condition not in CONDITION_IDS:
        logger.warning("reflection answer for unknown session %s / %r", session_id, condition)
        return [turn.say("stale_button")]
    if session.closed_at is not None:
        return [turn.say("reflection_closed")]
    if value in ("dk", "skip"):
        status_, score = ("dont_know" if value == "dk" else "skipped"), None
    else:
        status_, score = "scored", int(value)
    await store.upsert(
        turn.session, ReflectionAnswer,
        {"session_id": session.id, "member_id": turn.member.id, "condition": condition},
        {"statement_id": session.statement_ids[CONDITION_IDS.index(condition)],
         "status": status_, "score": score, "answered_at": turn.now},
    )
    return await next_statement(turn, session, intro=False)


async def typed(turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
    """A typed score ("4", "?", "overslaan") for the statement last asked."""
    value = parse_typed_answer(text)
    if value is None:
        return [turn.say("checkin_typed_help")]
    return await answer(turn, int(data["session_id"]), str(data["condition"]), value)


async def act_join(_engine: object, turn: Turn, parts: list[str]) -> list[Reply]:
    return await join(turn, int(parts[0]))


async def act_answer(_engine: object, turn: Turn, parts: list[str]) -> list[Reply]:
    session_id, condition, value = int(parts[0]), parts[1], parts[2]
    if value not in ("1", "2", "3", "4", "5", "dk", "skip"):
        raise ValueError(value)
    return await answer(turn, session_id, condition, value)


async def next_statement(turn: Turn, session: ReflectionSession, intro: bool) -> list[Reply]:
    answered = {a.condition for a in
                await store.session_answers(turn.session, session.id, turn.member.id)}
    remaining = [c for c in CONDITION_IDS if c not in answered]
    if not remaining:
        await forget(turn)
        return [turn.say("reflection_done")]
    condition = turn.content.condition(remaining[0])
    statement = turn.content.statement(session.statement_ids[CONDITION_IDS.index(condition.id)])
    await repo.set_conversation(turn.session, turn.member.id, FLOW,
                                {"session_id": session.id, "condition": condition.id}, turn.now)
    ask = Scale(
        prompt=turn.t("reflection_statement", number=CONDITION_IDS.index(condition.id) + 1,
                      total=len(CONDITION_IDS), condition=condition.name.get(turn.lang),
                      statement=statement.text.get(turn.lang)),
        options=tuple(scale_options(turn, f"rs:{session.id}:{condition.id}")),
    )
    if intro and not answered:
        return [turn.say("reflection_intro", minimum=MIN_GROUP), ask]
    return [ask]


def results(answers: list[ReflectionAnswer]) -> list[ConditionResult]:
    """Per condition: how many scored it, and the mean when enough people did."""
    found = []
    for condition in CONDITION_IDS:
        scores = [a.score for a in answers if a.condition == condition and a.score is not None]
        shown = len(scores) >= MIN_GROUP
        found.append(ConditionResult(condition, len(scores), fmean(scores) if shown else None))
    return found


def render_result(turn: Turn, session: ReflectionSession, answers: list[ReflectionAnswer]) -> str:
    respondents = len({a.member_id for a in answers})
    title = turn.t("reflection_result_title", number=session.number, count=respondents)
    if respondents < MIN_GROUP:
        return "\n".join([title, turn.t("reflection_too_few", count=respondents,
                                        minimum=MIN_GROUP)])
    rows = [title]
    found = results(answers)
    for result in found:
        name = turn.content.condition(result.condition).name.get(turn.lang)
        if result.mean is None:
            rows.append(turn.t("reflection_row_hidden", condition=name, count=result.respondents,
                               minimum=MIN_GROUP))
        else:
            rows.append(turn.t("reflection_row", condition=name, mean=f"{result.mean:.1f}",
                               count=result.respondents, bar=bar(result.mean)))
    shown = sorted((r for r in found if r.mean is not None),
                   key=lambda r: (r.mean, CONDITION_IDS.index(r.condition)))
    if shown:
        rows += ["", turn.t("reflection_talk_about")]
        for result in shown[:TALK_ABOUT]:
            condition = turn.content.condition(result.condition)
            question = condition.followups[(session.number - 1) % len(condition.followups)]
            rows.append(turn.t("reflection_talk_row", condition=condition.name.get(turn.lang),
                               question=question.get(turn.lang)))
    return "\n".join(rows)


async def _session(turn: Turn, session_id: int) -> ReflectionSession | None:
    session = await turn.session.get(ReflectionSession, session_id)
    if session is None or session.partnership_id != turn.partnership.id:
        return None
    return session
