"""The reflection session of a team meeting: a project leader opens it in the channel, each
participant privately scores one statement per condition, and the channel sees the
aggregate per condition (numbers only for groups of three or more) and the two conditions
to talk about, each with a question for the conversation.

The aggregate is posted by itself, once, as soon as three people have answered every
statement (through the outbox, since it happens in someone's private turn), when the
session was opened in a bound channel; opened in a private or unbound chat, it shows the
result only when closed, and its words say so. The session
stays open for whoever is still answering. When the leader closes it, a final result is
posted only where it cannot give anyone away: a condition's number is updated only when at
least three more people scored it since the first post (or it had no number then);
otherwise the earlier number stands. Two totals that differ by one person's answer would
show that person's score. Without any update the channel only hears that the session closed.
A first post that never reached the channel (still waiting, which is then taken back, or
failed) does not count: closing shows the whole result instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from bot import registry
from bot.content import Content
from bot.domain import CONDITION_IDS
from bot.flows.checkin import parse_typed_answer
from bot.flows.instruments.common import (
    MIN_GROUP,
    bar,
    first_word,
    forget,
    is_team_chat,
    may_lead,
    never_seen,
    post_to_team,
    public,
    scale_options,
    team_language,
)
from bot.flows.roles import leaders_only
from bot.flows.turn import Turn, says_stop
from bot.messages import Invitation, Noted, Option, Reply, Scale, Text
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
    earlier: bool = False  # as posted before, kept in the final result


@registry.command("reflectie", "reflection", leader_words=("start", "sluit", "stand"),
                  help=True, order=4)
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
    posts = await is_team_chat(turn, session.chat_ref)
    next_key = "reflection_leader_next" if posts else "reflection_leader_next_on_close"
    replies.append(await turn.ask(turn.t(next_key, minimum=MIN_GROUP),
                                  [Option(turn.t("reflection_join"), f"rj:{session.id}")]))
    return replies


async def status(turn: Turn) -> list[Reply]:
    """How many are done and how many still busy: counts, never a score; and when the
    total is (or was) shown, counted in people done as the post itself is."""
    if not may_lead(turn.member):
        return leaders_only(turn)
    session = await store.open_session(turn.session, turn.partnership.id)
    if session is None:
        return [turn.say("reflection_none_open")]
    answers = await store.session_answers(turn.session, session.id)
    done = finished(answers)
    if session.shown is not None:
        when = "reflection_status_shown"
    elif await is_team_chat(turn, session.chat_ref):
        when = "reflection_status_posts"
    else:
        when = "reflection_status_on_close"
    return [Text(text=" ".join([
        turn.t("reflection_status", number=session.number, done=done,
               busy=len({a.member_id for a in answers}) - done),
        turn.t(when, minimum=MIN_GROUP)]))]


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
    respondents = len({a.member_id for a in answers})
    logger.info("reflection session %s closed with %s respondents", session.id, respondents)
    lang = await team_language(turn, session.opened_by)
    found = results(answers)
    if session.shown is not None and await never_seen(turn, result_key(session)):
        session.shown = None
    if session.shown is None:
        text = render_result(turn.content, lang, session.number, session.statement_ids,
                             respondents, found)
    else:
        found = final_results(found, session.shown)
        if not any(result.mean is not None and not result.earlier for result in found):
            return [public(Text(text=turn.content.text(
                "reflection_closed_shown", lang, number=session.number, count=respondents,
                minimum=MIN_GROUP)))]
        text = render_result(turn.content, lang, session.number, session.statement_ids,
                             respondents, found, final=True)
    return [public(Text(text=text))]


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
    answered_before = any(a.condition == condition for a in await store.session_answers(
        turn.session, session.id, turn.member.id))
    await store.upsert(
        turn.session, ReflectionAnswer,
        {"session_id": session.id, "member_id": turn.member.id, "condition": condition},
        {"statement_id": session.statement_ids[CONDITION_IDS.index(condition)],
         "status": status_, "score": score, "answered_at": turn.now},
    )
    if answered_before and not await _asking(turn, session.id, condition):
        return [Noted()]  # a second tap: the score is replaced, the next one was asked
    await show_when_enough(turn, session)  # first: the reply tells whether it was posted
    return await next_statement(turn, session, intro=False)


async def show_when_enough(turn: Turn, session: ReflectionSession) -> None:
    """Post the aggregate in the session's channel, once, when enough people are done."""
    if session.shown is not None:
        return
    answers = await store.session_answers(turn.session, session.id)
    if finished(answers) < MIN_GROUP:
        return
    found = results(answers)
    respondents = len({a.member_id for a in answers})
    lang = await team_language(turn, session.opened_by)
    text = "\n\n".join([
        render_result(turn.content, lang, session.number, session.statement_ids,
                      respondents, found),
        turn.content.text("reflection_result_open", lang, minimum=MIN_GROUP)])
    if await post_to_team(turn, session.chat_ref, result_key(session),
                          turn.local_date(session.opened_at), [Text(text=text)]):
        session.shown = {"respondents": respondents,
                         "conditions": {r.condition: [r.respondents, r.mean] for r in found}}
        logger.info("reflection session %s: result posted with %s respondents", session.id,
                    respondents)


@registry.text_flow(FLOW)
async def typed(turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
    """A typed score ("4", "?", "overslaan") for the statement last asked, or "stop"."""
    if says_stop(text):
        await forget(turn)
        return [turn.say("reflection_stopped")]
    value = parse_typed_answer(text)
    if value is None:
        return [turn.say("checkin_typed_help")]
    return await answer(turn, int(data["session_id"]), str(data["condition"]), value)


@registry.action("rj")  # rj:<session id>
async def act_join(turn: Turn, parts: list[str]) -> list[Reply]:
    return await join(turn, int(parts[0]))


@registry.action("rs")  # rs:<session id>:<condition>:<1-5|dk|skip>
async def act_answer(turn: Turn, parts: list[str]) -> list[Reply]:
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
        if session.shown is not None:
            done = "reflection_done_shown"
        elif await is_team_chat(turn, session.chat_ref):
            done = "reflection_done"
        else:  # a private or unbound chat: the total is shown only when it is closed
            done = "reflection_done_on_close"
        return [turn.say(done, minimum=MIN_GROUP)]
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


def result_key(session: ReflectionSession) -> str:
    return f"reflection:{session.id}"


def results(answers: list[ReflectionAnswer]) -> list[ConditionResult]:
    """Per condition: how many scored it, and the mean when enough people did."""
    found = []
    for condition in CONDITION_IDS:
        scores = [a.score for a in answers if a.condition == condition and a.score is not None]
        shown = len(scores) >= MIN_GROUP
        found.append(ConditionResult(condition, len(scores), fmean(scores) if shown else None))
    return found


def finished(answers: list[ReflectionAnswer]) -> int:
    """How many people have answered every statement (a "don't know" or skip counts)."""
    conditions: dict[int, set[str]] = {}
    for answer_ in answers:
        conditions.setdefault(answer_.member_id, set()).add(answer_.condition)
    return sum(len(given) == len(CONDITION_IDS) for given in conditions.values())


def final_results(found: list[ConditionResult], shown: dict[str, Any]) -> list[ConditionResult]:
    """What the closing post may show after the first post: a condition's new number when
    it had none before or at least MIN_GROUP more people scored it since; else the earlier
    one, so the difference between the two posts never reveals fewer than MIN_GROUP scores."""
    merged = []
    for result in found:
        count, mean = shown["conditions"].get(result.condition, [0, None])
        if mean is None or (result.mean is not None
                            and result.respondents - count >= MIN_GROUP):
            merged.append(result)
        else:
            merged.append(ConditionResult(result.condition, count, mean, earlier=True))
    return merged


def render_result(content: Content, lang: str, number: int, statement_ids: list[str],
                  respondents: int, found: list[ConditionResult], final: bool = False) -> str:
    """The aggregate; each condition to talk about comes with the follow-up question of the
    statement the session asked on it, so the question fits what was scored."""
    title_key = "reflection_final_title" if final else "reflection_result_title"
    title = content.text(title_key, lang, number=number, count=respondents)
    if respondents < MIN_GROUP:
        return "\n".join([title, content.text("reflection_too_few", lang, count=respondents,
                                              minimum=MIN_GROUP)])
    rows = [title]
    for result in found:
        name = content.condition(result.condition).name.get(lang)
        if result.mean is None:
            row = content.text("reflection_row_hidden", lang, condition=name,
                               count=result.respondents, minimum=MIN_GROUP)
        else:
            row = content.text("reflection_row", lang, condition=name,
                               mean=content.decimal(result.mean, lang),
                               count=result.respondents, bar=bar(result.mean))
        if result.earlier:
            row += content.text("reflection_row_earlier", lang)
        rows.append(row)
    shown = sorted((r for r in found if r.mean is not None),
                   key=lambda r: (r.mean, CONDITION_IDS.index(r.condition)))
    if shown:
        rows += ["", content.text("reflection_talk_about", lang)]
        for result in shown[:TALK_ABOUT]:
            condition = content.condition(result.condition)
            asked = statement_ids[CONDITION_IDS.index(condition.id)]
            question = content.statement(asked).followup
            rows.append(content.text("reflection_talk_row", lang,
                                     condition=condition.name.get(lang),
                                     question=question.get(lang)))
        if len(shown) > TALK_ABOUT:  # and what goes well, from the highest score
            best = content.condition(shown[-1].condition).name.get(lang)
            rows.append(content.text("reflection_goes_well", lang, condition=best))
    return "\n".join(rows)


async def _asking(turn: Turn, session_id: int, condition: str) -> bool:
    """Whether the member's open question is this statement of this session."""
    state = await repo.conversation(turn.session, turn.member.id)
    return (state is not None and state.flow == FLOW
            and state.data.get("session_id") == session_id
            and state.data.get("condition") == condition)


async def _session(turn: Turn, session_id: int) -> ReflectionSession | None:
    session = await turn.session.get(ReflectionSession, session_id)
    if session is None or session.partnership_id != turn.partnership.id:
        return None
    return session
