"""The talk-plate: a guided team conversation about urgency, shared ambition and the three
kinds of interest (collective, of each school, personal), one question at a time in the
channel. Anyone can move on to the next question or write down what the team concluded;
an outcome is posted with the questions, without a name, and all of them once more when
the conversation ends.

The questions go to the chat where the talk-plate is held (`chat_ref`); its buttons only
move it on from there, so no question ends up in someone's private chat by mistake. Typed
in another team chat, `praatplaat` puts it on the table there; from a private chat it
does not move one held in a team chat. Only who started it, or a project leader, ends it
or starts it over, by button or by typing. The
first question is a message in the channel; the first button pressed under it tells which
message that is (`thread_ref`), and every next question and outcome goes in its thread.
Outcomes are usually typed in a private chat, so they reach the channel through the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from bot import registry
from bot.content import TalkPlateTopic, Text
from bot.flows.instruments.common import (
    bullet_list,
    first_word,
    forget,
    is_team_chat,
    may_lead,
    post_to_team,
    public,
    team_language,
)
from bot.flows.turn import Turn, clean_text, typed_number
from bot.messages import FreeText, Option, Reply
from bot.messages import Text as TextReply
from bot.store import instruments as store
from bot.store import repo
from bot.store.instruments import TalkPlate, TalkPlateOutcome

logger = logging.getLogger(__name__)

FLOW = "talk_plate"
STOP_WORDS = {"stop", "einde", "end", "klaar", "sluit", "close", "done"}
NEW_WORDS = {"nieuw", "new", "opnieuw", "start", "again"}
PER_PARTNER = {"interests_collective", "interests_organisation", "interests_individual"}
MAX_OUTCOME = 1000


def questions(topics: list[TalkPlateTopic]) -> list[tuple[TalkPlateTopic, Text]]:
    """Every question in order, with its topic."""
    return [(topic, question) for topic in topics for question in topic.questions]


@registry.command("praatplaat", "talkplate", "talk-plate")
async def command(turn: Turn, arg: str) -> list[Reply]:
    """`praatplaat` starts one (or puts the current question back on the table);
    `praatplaat stop` ends it; `praatplaat nieuw` starts over."""
    word = first_word(arg)
    plate = await store.running_talk_plate(turn.session, turn.partnership.id)
    if plate is not None and await kept_in_team_chat(turn, plate):
        return [turn.say("talk_elsewhere")]
    if word in STOP_WORDS:
        if plate is None:
            return [turn.say("talk_none_running")]
        if not may_end(turn, plate):
            return [turn.say("talk_not_yours")]
        return await finish(turn, plate)
    if plate is not None and word not in NEW_WORDS:
        if plate.chat_ref != turn.incoming.chat[:100]:  # put back on the table here
            plate.chat_ref, plate.thread_ref = turn.incoming.chat[:100], None
        return [await post_question(turn, plate)]
    replies: list[Reply] = []
    if plate is not None:
        if not may_end(turn, plate):
            return [turn.say("talk_not_yours")]
        replies += await finish(turn, plate)
    plate = TalkPlate(partnership_id=turn.partnership.id, started_by=turn.member.id,
                      started_at=turn.now, chat_ref=turn.incoming.chat[:100], position=0)
    turn.session.add(plate)
    await turn.session.flush()
    logger.info("talk-plate %s started in partnership %s", plate.id, turn.partnership.id)
    total = len(questions(turn.content.talk_plate))
    intro = turn.content.text("talk_intro", turn.lang, total=total)
    return [*replies, public(TextReply(text=intro)), await post_question(turn, plate)]


def may_end(turn: Turn, plate: TalkPlate) -> bool:
    """Who started the talk-plate, or a project leader, ends it (or starts it over)."""
    return may_lead(turn.member) or plate.started_by == turn.member.id


async def kept_in_team_chat(turn: Turn, plate: TalkPlate) -> bool:
    """Whether the talk-plate is held in a team chat and this chat is not one (a private
    chat, say): it stays where the team follows it, and is not led from here."""
    here = turn.incoming.chat[:100]
    if here == plate.chat_ref or (not turn.incoming.direct and await is_team_chat(turn, here)):
        return False
    return await is_team_chat(turn, plate.chat_ref)


async def post_question(turn: Turn, plate: TalkPlate) -> Reply:
    """The question now on the table, for the whole chat, with its buttons: the first in
    the channel, the others in the thread under it."""
    lang = await team_language(turn, plate.started_by)

    def t(key: str, **values: object) -> str:
        return turn.content.text(key, lang, **values)

    listed = questions(turn.content.talk_plate)
    topic, question = listed[plate.position]
    prompt = t("talk_question", number=plate.position + 1, total=len(listed),
               topic=topic.name.get(lang), question=question.get(lang))
    if topic.id in PER_PARTNER:
        prompt += "\n" + t("talk_per_partner",
                           schools=", ".join(s.name for s in turn.partnership.schools))
    prefix = f"tp:{plate.id}:{plate.position}"
    last = plate.position + 1 == len(listed)
    options = [
        Option(t("talk_finish" if last else "talk_next"), f"{prefix}:next"),
        Option(t("talk_note"), f"{prefix}:note"),
        Option(t("talk_stop"), f"{prefix}:stop"),
    ]
    # Remembered for whoever moved it on, so "1" typed in a text-only chat works too.
    return replace(public(await turn.ask(prompt, options)), thread_of=plate.thread_ref)


def learn_thread(turn: Turn, plate: TalkPlate) -> None:
    """Remember the message a button was pressed under in the team's chat: the first
    question, or (later) one in its thread. Private chats get no threads."""
    here = turn.incoming.chat[:100] == plate.chat_ref and not turn.incoming.direct
    if here and plate.thread_ref is None:
        found = turn.incoming.thread or turn.incoming.message
        plate.thread_ref = found[:100] if found else None


@registry.action("tp")  # tp:<talk-plate id>:<position>:next|note|stop|cancel
async def act(turn: Turn, parts: list[str]) -> list[Reply]:
    """`tp:<id>:<position>:next|note|stop|cancel`; a button of an earlier question does
    nothing."""
    # Locked: two people pressing "next" at once move the plate on once.
    plate = await turn.session.get(TalkPlate, int(parts[0]), with_for_update=True)
    position, what = int(parts[1]), parts[2]
    if what not in ("next", "note", "stop", "cancel"):
        raise ValueError(what)
    if what == "cancel":
        await forget(turn)
        return [turn.say("talk_note_cancelled")]
    if plate is None or plate.partnership_id != turn.partnership.id:
        return [turn.say("stale_button")]
    if plate.finished_at is not None:
        return [turn.say("talk_finished")]
    if position != plate.position:
        return [turn.say("talk_moved_on")]
    if what != "note" and turn.incoming.chat[:100] != plate.chat_ref:
        return [turn.say("talk_elsewhere")]
    learn_thread(turn, plate)
    topic, _ = questions(turn.content.talk_plate)[position]
    if what == "note":
        await repo.set_conversation(turn.session, turn.member.id, FLOW,
                                    {"talk_plate_id": plate.id, "topic": topic.id}, turn.now)
        cancel = Option(turn.t("talk_note_cancel"), f"tp:{plate.id}:{position}:cancel")
        return [FreeText(prompt=turn.t("talk_note_prompt", topic=topic.name.get(turn.lang).lower()),
                         skip=cancel)]
    if what == "stop":
        if not may_end(turn, plate):
            return [turn.say("talk_not_yours")]
        return await finish(turn, plate)
    if position + 1 >= len(questions(turn.content.talk_plate)):
        return await finish(turn, plate)
    plate.position += 1
    return [await post_question(turn, plate)]


@registry.text_flow(FLOW, stopped="talk_note_cancelled")
async def typed(turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
    """The outcome someone writes down for the topic on the table; "stop" writes nothing,
    and a bare number is asked again: it says nothing written down."""
    if typed_number(text) is not None:
        return [turn.say("talk_note_not_number")]
    plate = await turn.session.get(TalkPlate, int(data["talk_plate_id"]))
    await forget(turn)
    if plate is None or plate.partnership_id != turn.partnership.id:
        return [turn.say("stale_button")]
    written, shortened = clean_text(text, limit=MAX_OUTCOME)
    if not written:
        return [turn.say("talk_note_empty")]
    outcome = TalkPlateOutcome(talk_plate_id=plate.id, topic_id=str(data["topic"]),
                               text=written, recorded_by=turn.member.id, recorded_at=turn.now)
    turn.session.add(outcome)
    await turn.session.flush()
    await post_outcome(turn, plate, outcome)
    saved = turn.say("talk_note_saved_shortened" if shortened else "talk_note_saved",
                     limit=MAX_OUTCOME)
    held_here = turn.incoming.direct and turn.incoming.chat[:100] == plate.chat_ref
    if plate.finished_at is None and held_here:
        return [saved, await post_question(turn, plate)]  # alone with the bot: carry on
    return [saved]


async def post_outcome(turn: Turn, plate: TalkPlate, outcome: TalkPlateOutcome) -> None:
    """The outcome, without a name, under the questions in the team's chat."""
    lang = await team_language(turn, plate.started_by)
    topic = _topic_name(turn, outcome.topic_id, lang)
    text = turn.content.text("talk_outcome", lang, topic=topic, text=outcome.text)
    await post_to_team(turn, plate.chat_ref, f"talk_outcome:{outcome.id}", turn.local_today(),
                       [TextReply(text=text, thread_of=plate.thread_ref)])


async def finish(turn: Turn, plate: TalkPlate) -> list[Reply]:
    """End the conversation and show the team, in the channel, what it wrote down."""
    plate.finished_at = turn.now
    await forget(turn)
    outcomes = await store.talk_plate_outcomes(turn.session, plate.id)
    lang = await team_language(turn, plate.started_by)
    if not outcomes:
        return [public(TextReply(text=turn.content.text("talk_done_nothing", lang)))]
    rows = [f"{_topic_name(turn, o.topic_id, lang)}: {o.text}" for o in outcomes]
    return [public(TextReply(text=turn.content.text("talk_done", lang,
                                                    outcomes=bullet_list(rows))))]


def _topic_name(turn: Turn, topic_id: str, lang: str) -> str:
    for topic in turn.content.talk_plate:
        if topic.id == topic_id:
            return topic.name.get(lang)
    return topic_id
