""""Which pitfall do you recognise?" as a quick poll in the channel, next to browsing.

Everyone votes once with a button and may change their vote while the poll is open. The
result is posted in the channel by itself, once, at the third vote (through the outbox, so
one post whoever casts that vote); a poll in a private or unbound chat shows it only when
closed. When the poll is closed later, a final result follows only if at least three more
votes came in since: after a single extra vote two results would show what that person
voted. Closing a poll whose result was never shown (or never arrived) shows it, from three
votes.
"""

from __future__ import annotations

import logging
from collections import Counter

from bot import registry
from bot.content import Content
from bot.flows import commands
from bot.flows.instruments.common import (
    bar,
    first_word,
    forget,
    group_minimum,
    is_team_chat,
    may_lead,
    never_seen,
    post_to_team,
    public,
    team_language,
)
from bot.flows.turn import Turn
from bot.messages import Option, Reply, Text
from bot.store import instruments as store
from bot.store.instruments import PitfallPoll, PitfallVote

logger = logging.getLogger(__name__)

POLL_WORDS = {"peiling", "poll", "stemming", "vote", "herken"}
RESULT_WORDS = {"uitslag", "result", "results", "sluit", "close"}


@registry.command("valkuilen", "valkuil", "pitfalls", "pitfall", help=True, menu=True, order=4,
                  chats="both")
async def pitfalls(turn: Turn, arg: str) -> list[Reply]:
    """`valkuilen peiling` starts the poll, `valkuilen uitslag` closes it; else browse."""
    word = first_word(arg)
    if word in POLL_WORDS:
        return await start(turn)
    if word in RESULT_WORDS:
        return await close(turn)
    return await commands.pitfalls(turn, arg)


async def start(turn: Turn) -> list[Reply]:
    """Open a poll (or show the open one again) in the chat, with a button per pitfall."""
    poll = await store.open_poll(turn.session, turn.partnership.id)
    if poll is None:
        poll = PitfallPoll(partnership_id=turn.partnership.id, started_by=turn.member.id,
                           started_at=turn.now, chat_ref=turn.incoming.chat[:100])
        turn.session.add(poll)
        await turn.session.flush()
        logger.info("pitfall poll %s opened in partnership %s", poll.id, turn.partnership.id)
    options = [Option(p.name.get(turn.lang), f"pv:{poll.id}:{p.number}")
               for p in turn.content.pitfalls]
    # The starter can also vote by typing a number (the console has no buttons).
    key = "poll_question" if await is_team_chat(turn, poll.chat_ref) else "poll_question_on_close"
    question = await turn.ask(turn.t(key, minimum=group_minimum(turn)), options)
    return [public(question)]


async def vote(turn: Turn, poll_id: int, number: int) -> list[Reply]:
    """One vote per member; a second press changes it. Only the voter hears back."""
    poll = await turn.session.get(PitfallPoll, poll_id)
    if poll is None or poll.partnership_id != turn.partnership.id:
        return [turn.say("stale_button")]
    if not 1 <= number <= len(turn.content.pitfalls):
        raise ValueError(number)
    if poll.closed_at is not None:
        return [turn.say("poll_closed")]
    pitfall = turn.content.pitfalls[number - 1]
    before = {v.member_id: v.pitfall_id for v in await store.poll_votes(turn.session, poll.id)}
    await store.upsert(turn.session, PitfallVote,
                       {"poll_id": poll.id, "member_id": turn.member.id},
                       {"pitfall_id": pitfall.id, "voted_at": turn.now})
    await forget(turn)
    await show_when_enough(turn, poll)
    key = "poll_vote_changed" if turn.member.id in before else "poll_voted"
    return [turn.say(key, pitfall=pitfall.name.get(turn.lang))]


async def show_when_enough(turn: Turn, poll: PitfallPoll) -> None:
    """Post the result in the poll's channel, once, from the third vote on."""
    if poll.shown is not None:
        return
    votes = await store.poll_votes(turn.session, poll.id)
    if len(votes) < group_minimum(turn):
        return
    lang = await team_language(turn, poll.started_by)
    text = "\n\n".join([render_result(turn.content, lang, votes),
                         turn.content.text("poll_result_open", lang, minimum=group_minimum(turn))])
    if await post_to_team(turn, poll.chat_ref, result_key(poll),
                          turn.local_date(poll.started_at), [Text(text=text)]):
        poll.shown = {"votes": len(votes), "counts": dict(Counter(v.pitfall_id for v in votes))}
        logger.info("pitfall poll %s: result posted with %s votes", poll.id, len(votes))


async def close(turn: Turn) -> list[Reply]:
    """Close the poll with its (final) result; with fewer than three votes it stays open."""
    poll = await store.open_poll(turn.session, turn.partnership.id)
    if poll is None:
        return [turn.say("poll_none_open")]
    if not (may_lead(turn.member) or poll.started_by == turn.member.id):
        return [turn.say("poll_not_yours")]
    if turn.incoming.chat[:100] != poll.chat_ref:
        return [turn.say("poll_close_there")]
    votes = await store.poll_votes(turn.session, poll.id)
    if len(votes) < group_minimum(turn):
        return [public(turn.say("poll_too_few", count=len(votes), minimum=group_minimum(turn)))]
    poll.closed_at = turn.now
    logger.info("pitfall poll %s closed with %s votes", poll.id, len(votes))
    lang = await team_language(turn, poll.started_by)
    if poll.shown is not None and await never_seen(turn, result_key(poll)):
        poll.shown = None
    if poll.shown is None:
        return [public(Text(text=render_result(turn.content, lang, votes)))]
    if len(votes) - int(poll.shown["votes"]) < group_minimum(turn):
        return [public(Text(text=turn.content.text("poll_closed_shown", lang, count=len(votes),
                                                   minimum=group_minimum(turn))))]
    return [public(Text(text=render_result(turn.content, lang, votes, final=True)))]


def result_key(poll: PitfallPoll) -> str:
    return f"poll:{poll.id}"


def render_result(content: Content, lang: str, votes: list[PitfallVote],
                  final: bool = False) -> str:
    counts = Counter(v.pitfall_id for v in votes)
    title = "poll_final_title" if final else "poll_result_title"
    rows = [content.text(title, lang, count=len(votes))]
    for pitfall in sorted(content.pitfalls, key=lambda p: (-counts[p.id], p.number)):
        share = counts[pitfall.id] / len(votes) * 5
        rows.append(content.text("poll_result_row", lang, pitfall=pitfall.name.get(lang),
                                 count=counts[pitfall.id], bar=bar(share)))
    top = max(content.pitfalls, key=lambda p: (counts[p.id], -p.number))
    rows += ["", content.text("poll_result_top", lang, pitfall=top.name.get(lang),
                              factor=top.success_factors[0].get(lang),
                              question=top.reflection_questions[1].get(lang),
                              number=top.number)]
    return "\n".join(rows)


@registry.action("pv")  # pv:<poll id>:<pitfall number>
async def act_vote(turn: Turn, parts: list[str]) -> list[Reply]:
    return await vote(turn, int(parts[0]), int(parts[1]))
