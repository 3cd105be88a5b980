"""The reflection session of a team meeting: a project leader opens it in the channel, each
participant privately answers per condition how it goes (its core question, next to the
partnership's latest monthly figure) and, in their own words, what goes well and why or
what could be better; the channel sees the aggregate per condition (numbers only for groups
of three or more), how each school sees it where that gives nobody away, the notes from
five on, and the conditions to talk about (see `reflection_result`).

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
from typing import Any

from bot import registry
from bot.domain import CONDITION_IDS
from bot.flows.checkin import parse_typed_answer
from bot.flows.instruments.common import (
    first_word,
    forget,
    group_minimum,
    is_team_chat,
    may_lead,
    never_seen,
    post_to_team,
    public,
    scale_options,
    team_language,
)
from bot.flows.instruments.reflection_result import (
    NOTE_LIMIT,
    final_results,
    first_post,
    remember,
    render_result,
    results,
)
from bot.flows.roles import leaders_only
from bot.flows.turn import Turn, clean_text, typed_number
from bot.messages import Choice, FreeText, Invitation, Noted, Option, Reply, Scale, Text
from bot.store import instruments as store
from bot.store import repo
from bot.store.instruments import ReflectionAnswer, ReflectionSession
from bot.summary.frozen import last_closed_month, published_summary

logger = logging.getLogger(__name__)

START_WORDS = {"start", "begin", "open", "nieuw", "new"}
CLOSE_WORDS = {"sluit", "sluiten", "close", "stop", "einde", "end", "klaar"}
STATUS_WORDS = {"stand", "status"}
NOTE_SKIP_WORDS = {"-", "sla over", "overslaan", "skip", "geen", "none", "nee", "no"}
FLOW = "reflection"


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
    return await next_condition(turn, session, intro=True)


async def start(turn: Turn) -> list[Reply]:
    if not may_lead(turn.member):
        return leaders_only(turn)
    session = await store.open_session(turn.session, turn.partnership.id)
    replies: list[Reply] = []
    if session is not None:
        replies.append(turn.say("reflection_already_open"))
    else:
        number = await store.last_session_number(turn.session, turn.partnership.id) + 1
        # The follow-up questions come from a statement other than the check-in's anchor.
        statements = [condition.statements[1 + (number - 1) % (len(condition.statements) - 1)].id
                      for condition in (turn.content.condition(c) for c in CONDITION_IDS)]
        session = ReflectionSession(partnership_id=turn.partnership.id, number=number,
                                    statement_ids=statements, opened_by=turn.member.id,
                                    opened_at=turn.now, chat_ref=turn.incoming.chat[:100])
        turn.session.add(session)
        await turn.session.flush()
        logger.info("reflection session %s opened in partnership %s", session.id,
                    turn.partnership.id)
    replies.append(public(Invitation(
        text=turn.t("reflection_invite", number=session.number, minimum=group_minimum(turn)),
        button=turn.t("reflection_join"), action=f"rj:{session.id}",
    )))
    posts = await is_team_chat(turn, session.chat_ref)
    next_key = "reflection_leader_next" if posts else "reflection_leader_next_on_close"
    replies.append(await turn.ask(turn.t(next_key, minimum=group_minimum(turn)),
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
        turn.t(when, minimum=group_minimum(turn))]))]


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
    minimum = group_minimum(turn)
    found = results(answers, _school_names(turn), minimum)
    if session.shown is not None and await never_seen(turn, result_key(session)):
        session.shown = None
    if session.shown is None:
        found = first_post(found)
        text = render_result(turn.content, lang, session.number, session.statement_ids,
                             respondents, found, minimum)
    else:
        found = final_results(found, session.shown, minimum)
        if not any((r.mean is not None and not r.earlier) or r.notes for r in found):
            return [public(Text(text=turn.content.text(
                "reflection_closed_shown", lang, number=session.number, count=respondents,
                minimum=minimum)))]
        text = render_result(turn.content, lang, session.number, session.statement_ids,
                             respondents, found, minimum, final=True)
    return [public(Text(text=text))]


async def join(turn: Turn, session_id: int) -> list[Reply]:
    """The invitation's button: this person's private questions."""
    session = await _session(turn, session_id)
    if session is None:
        return [turn.say("stale_button")]
    if session.closed_at is not None:
        return [turn.say("reflection_closed")]
    return await next_condition(turn, session, intro=True)


async def answer(turn: Turn, session_id: int, condition: str, value: str) -> list[Reply]:
    """Store (or change) one score, then ask what goes well on it."""
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
    asking = await _asking(turn, session.id, condition, "score")
    await store.upsert(
        turn.session, ReflectionAnswer,
        {"session_id": session.id, "member_id": turn.member.id, "condition": condition},
        {"statement_id": session.statement_ids[CONDITION_IDS.index(condition)],
         "school_id": turn.member.school_id, "status": status_, "score": score,
         "answered_at": turn.now},
    )
    if not asking:
        return [Noted()]  # a second tap: the score is replaced, the next one was asked
    await show_when_enough(turn, session)  # the third one done, even without a last note
    return [await ask_note(turn, session, condition)]


async def note(turn: Turn, session_id: int, condition: str, text: str | None) -> list[Reply]:
    """Keep what goes well on `condition` (None: skipped), then the next condition."""
    session = await _session(turn, session_id)
    if session is None or condition not in CONDITION_IDS:
        return [turn.say("stale_button")]
    if session.closed_at is not None:
        return [turn.say("reflection_closed")]
    if not await _asking(turn, session.id, condition, "note"):
        return [Noted()]
    mine = await store.session_answers(turn.session, session.id, turn.member.id)
    row = next((a for a in mine if a.condition == condition), None)
    if row is not None and text:
        row.note = clean_text(text, limit=NOTE_LIMIT)[0] or None
    await show_when_enough(turn, session)  # first: the reply tells whether it was posted
    return await next_condition(turn, session, intro=False)


async def show_when_enough(turn: Turn, session: ReflectionSession) -> None:
    """Post the aggregate in the session's channel, once, when enough people are done."""
    if session.shown is not None:
        return
    answers = await store.session_answers(turn.session, session.id)
    minimum = group_minimum(turn)
    if finished(answers) < minimum:
        return
    found = first_post(results(answers, _school_names(turn), minimum))
    respondents = len({a.member_id for a in answers})
    lang = await team_language(turn, session.opened_by)
    text = "\n\n".join([
        render_result(turn.content, lang, session.number, session.statement_ids,
                      respondents, found, minimum),
        turn.content.text("reflection_result_open", lang, minimum=minimum)])
    if await post_to_team(turn, session.chat_ref, result_key(session),
                          turn.local_date(session.opened_at), [Text(text=text)]):
        session.shown = remember(found, respondents)
        logger.info("reflection session %s: result posted with %s respondents", session.id,
                    respondents)


@registry.text_flow(FLOW, stopped="reflection_stopped")
async def typed(turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
    """A typed score ("4", "?", "overslaan") for the condition last asked, or what goes
    well on it in a few words. A bare number where words are asked is confirmed."""
    session_id, condition = int(data["session_id"]), str(data["condition"])
    if data.get("step") == "note":
        if text.strip().lower().rstrip(".!") in NOTE_SKIP_WORDS:
            return await note(turn, session_id, condition, None)
        number = typed_number(text)
        if number is not None:
            await repo.set_conversation(turn.session, turn.member.id, FLOW,
                                        {**data, "pending": text.strip()[:20]}, turn.now)
            prefix = f"rn:{session_id}:{condition}"
            return [Choice(prompt=turn.t("reflection_note_number", number=text.strip()[:20]),
                           options=(Option(turn.t("reflection_note_keep"), f"{prefix}:keep"),
                                    Option(turn.t("reflection_note_skip"), f"{prefix}:skip")))]
        return await note(turn, session_id, condition, text)
    value = parse_typed_answer(text)
    if value is None:
        return [turn.say("reflection_typed_help")]
    return await answer(turn, session_id, condition, value)


@registry.action("rj")  # rj:<session id>
async def act_join(turn: Turn, parts: list[str]) -> list[Reply]:
    return await join(turn, int(parts[0]))


@registry.action("rs")  # rs:<session id>:<condition>:<1-5|dk|skip>, or rs:<session id>:stop
async def act_answer(turn: Turn, parts: list[str]) -> list[Reply]:
    if parts[1:] == ["stop"]:
        await forget(turn)
        return [turn.say("reflection_stopped")]
    session_id, condition, value = int(parts[0]), parts[1], parts[2]
    if value not in ("1", "2", "3", "4", "5", "dk", "skip"):
        raise ValueError(value)
    return await answer(turn, session_id, condition, value)


@registry.action("rn")  # rn:<session id>:<condition>:<skip|keep>
async def act_note(turn: Turn, parts: list[str]) -> list[Reply]:
    session_id, condition, what = int(parts[0]), parts[1], parts[2]
    if what not in ("skip", "keep"):
        raise ValueError(what)
    state = await repo.conversation(turn.session, turn.member.id)
    pending = state.data.get("pending") if state is not None and state.flow == FLOW else None
    return await note(turn, session_id, condition,
                      str(pending) if what == "keep" and pending else None)


async def ask_note(turn: Turn, session: ReflectionSession, condition: str) -> Reply:
    await repo.set_conversation(turn.session, turn.member.id, FLOW,
                                {"session_id": session.id, "condition": condition,
                                 "step": "note"}, turn.now)
    name = turn.content.condition(condition).name.get(turn.lang)
    return FreeText(prompt=turn.t("reflection_note", condition=name),
                    skip=Option(turn.t("reflection_note_skip"),
                                f"rn:{session.id}:{condition}:skip"))


async def next_condition(turn: Turn, session: ReflectionSession, intro: bool) -> list[Reply]:
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
        return [turn.say(done, minimum=group_minimum(turn))]
    condition = turn.content.condition(remaining[0])
    await repo.set_conversation(turn.session, turn.member.id, FLOW,
                                {"session_id": session.id, "condition": condition.id,
                                 "step": "score"}, turn.now)
    latest = await _latest_figures(turn)
    figure = latest.get(condition.id)
    context = "" if figure is None else "\n" + turn.t(
        "reflection_latest", month=figure[0], mean=turn.content.decimal(figure[1], turn.lang))
    labels = [turn.t(f"reflection_score_{score}") for score in range(1, 6)]
    ask = Scale(
        prompt=turn.t("reflection_statement", number=CONDITION_IDS.index(condition.id) + 1,
                      total=len(CONDITION_IDS), condition=condition.name.get(turn.lang),
                      statement=condition.core_question.get(turn.lang)) + context,
        options=tuple(scale_options(turn, f"rs:{session.id}:{condition.id}", labels)),
    )
    if intro and not answered:
        stop = Option(turn.t("reflection_stop_button"), f"rs:{session.id}:stop")
        return [Choice(prompt=turn.t("reflection_intro", minimum=group_minimum(turn)),
                       options=(stop,)), ask]
    return [ask]


def result_key(session: ReflectionSession) -> str:
    return f"reflection:{session.id}"


def finished(answers: list[ReflectionAnswer]) -> int:
    """How many people have answered every condition (a "don't know" or skip counts)."""
    conditions: dict[int, set[str]] = {}
    for answer_ in answers:
        conditions.setdefault(answer_.member_id, set()).add(answer_.condition)
    return sum(len(given) == len(CONDITION_IDS) for given in conditions.values())


async def _latest_figures(turn: Turn) -> dict[str, tuple[str, float]]:
    """The partnership's latest monthly figure per condition (month name, mean), as the
    published summary shows it (with its own thresholds); empty before the first month."""
    month = last_closed_month(turn.partnership, turn.now)
    summary = await published_summary(turn.session, turn.content, turn.partnership, month,
                                      now=turn.now)
    if summary is None:
        return {}
    name = turn.content.month_name(summary.month, turn.lang)
    return {topic.topic: (name, topic.mean) for topic in summary.conditions
            if topic.mean is not None}


def _school_names(turn: Turn) -> dict[int, str]:
    return {school.id: school.name for school in turn.partnership.schools}


async def _asking(turn: Turn, session_id: int, condition: str, step: str) -> bool:
    """Whether the member's open question is this step on this condition of this session."""
    state = await repo.conversation(turn.session, turn.member.id)
    return (state is not None and state.flow == FLOW
            and state.data.get("session_id") == session_id
            and state.data.get("condition") == condition
            and state.data.get("step", "score") == step)


async def _session(turn: Turn, session_id: int) -> ReflectionSession | None:
    session = await turn.session.get(ReflectionSession, session_id)
    if session is None or session.partnership_id != turn.partnership.id:
        return None
    return session
