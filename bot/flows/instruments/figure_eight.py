"""The figure-eight check: for two schools and their three levels, who is involved, how well
each level is connected inside its school, and how well it is connected with the same level
at the other school. The result is drawn as the eight with the weak links marked, and kept
so a summary can show the latest one (`latest`).

One person walks through the fifteen questions, level by level; the check is theirs until
it is done, and `achtje` picks up where they left off.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot import registry
from bot.content import Content
from bot.content import FigureEightLevel as LevelContent
from bot.domain import LEVEL_IDS
from bot.flows.checkin import parse_typed_answer
from bot.flows.instruments import drawing
from bot.flows.instruments.common import (
    bullet_list,
    first_word,
    forget,
    public,
    scale_options,
)
from bot.flows.turn import Turn, clean_text, says_stop, typed_number
from bot.messages import FreeText, Image, Noted, Option, Reply, Scale, Text
from bot.store import instruments as store
from bot.store import repo
from bot.store.instruments import FigureEightCheck, FigureEightLevel, FigureEightLink
from bot.store.models import Partnership, School

logger = logging.getLogger(__name__)

FLOW = "figure_eight"
NEW_WORDS = {"nieuw", "new", "opnieuw", "start", "again"}
SHOW_WORDS = {"toon", "show", "plaatje", "image", "laatste", "latest"}
MAX_NAMES = 300
NOBODY_WORDS = {"niemand", "nog niemand", "nobody", "nobody yet", "geen", "none", "-"}


@dataclass(frozen=True)
class Step:
    level: str
    kind: Literal["names", "inside", "link"]
    side: int  # 0: the first school, 1: the second; 0 for a link


STEPS = tuple(
    Step(level, kind, side)  # type: ignore[arg-type]
    for level in LEVEL_IDS
    for kind, side in (("names", 0), ("inside", 0), ("names", 1), ("inside", 1), ("link", 0))
)


@registry.command("achtje", "figure8", "figure-eight", "eight")
async def command(turn: Turn, arg: str) -> list[Reply]:
    """`achtje` continues or starts a check; `achtje nieuw` starts over; `achtje toon` shows
    the partnership's latest eight to the chat."""
    word = first_word(arg)
    if word in SHOW_WORDS:
        return await show(turn)
    schools = turn.partnership.schools
    if len(schools) < 2:
        return [turn.say("eight_needs_two_schools")]
    check = None if word in NEW_WORDS else await store.unfinished_check(
        turn.session, turn.partnership.id, turn.member.id)
    if check is not None:
        return [turn.say("eight_continue"), await ask(turn, check)]
    check = FigureEightCheck(partnership_id=turn.partnership.id, school_a_id=schools[0].id,
                             school_b_id=schools[1].id, started_by=turn.member.id,
                             started_at=turn.now, next_step=0)
    turn.session.add(check)
    await turn.session.flush()
    eight = turn.content.figure_eight
    intro = turn.t("eight_intro", intro=eight.intro.get(turn.lang),
                   closed_when=eight.closed_when.get(turn.lang), count=len(STEPS),
                   school_a=schools[0].name, school_b=schools[1].name)
    return [Text(text=intro), await ask(turn, check)]


async def show(turn: Turn) -> list[Reply]:
    check = await store.latest_completed_check(turn.session, turn.partnership.id)
    if check is None:
        return [turn.say("eight_none_yet")]
    return [public(reply) for reply in await result(turn, check)]


async def ask(turn: Turn, check: FigureEightCheck) -> Reply:
    """The question of the check's current step, remembered so a typed answer fits it."""
    index = check.next_step
    step = STEPS[index]
    level = _level(turn.content, step.level)
    school_a, school_b = await _schools(turn.session, check)
    school = (school_a, school_b)[step.side]
    await repo.set_conversation(turn.session, turn.member.id, FLOW,
                                {"check_id": check.id, "step": index}, turn.now)
    head = turn.t("eight_step", number=index + 1, total=len(STEPS),
                  level=level.name.get(turn.lang))
    prefix = f"e8:{check.id}:{index}"
    if step.kind == "names":
        # The level is explained once, at its first school.
        about = level.description.get(turn.lang) + "\n" if step.side == 0 else ""
        question = turn.t("eight_ask_names", school=school.name)
        return FreeText(prompt=f"{head}\n{about}{question}",
                        skip=Option(turn.t("eight_nobody"), f"{prefix}:none"))
    if step.kind == "inside":
        question = turn.t("eight_ask_inside", school=school.name,
                          level=level.name.get(turn.lang).lower())
    else:
        question = turn.t("eight_ask_link", school_a=school_a.name, school_b=school_b.name,
                          level=level.name.get(turn.lang).lower())
    labels = [turn.t(f"eight_score_{score}") for score in range(1, 6)]
    return Scale(prompt=f"{head}\n{question}",
                 options=tuple(scale_options(turn, prefix, labels)))


async def answer(turn: Turn, check_id: int, index: int, value: str) -> list[Reply]:
    """Keep one answer (names or "none"; 1-5, "dk" or "skip"), then ask the next step or
    draw the eight."""
    check = await turn.session.get(FigureEightCheck, check_id)
    if (check is None or check.partnership_id != turn.partnership.id
            or check.started_by != turn.member.id or not 0 <= index <= check.next_step
            or index >= len(STEPS)):
        return [turn.say("stale_button")]
    if check.completed_at is not None:
        return [turn.say("eight_already_done")]
    step = STEPS[index]
    school_id = (check.school_a_id, check.school_b_id)[step.side]
    if step.kind == "names":
        names = "" if value == "none" else clean_text(value, limit=MAX_NAMES)[0]
        await store.upsert(turn.session, FigureEightLevel,
                           {"check_id": check.id, "school_id": school_id, "level": step.level},
                           {"names": names})
    else:
        score = None if value in ("dk", "skip") else int(value)
        if score is not None and not 1 <= score <= 5:
            raise ValueError(value)
        if step.kind == "inside":
            await store.upsert(turn.session, FigureEightLevel,
                               {"check_id": check.id, "school_id": school_id,
                                "level": step.level}, {"inside": score})
        else:
            await store.upsert(turn.session, FigureEightLink,
                               {"check_id": check.id, "level": step.level}, {"score": score})
    if index < check.next_step and not await _asking(turn, check.id, index):
        return [Noted()]  # a second tap on an answered step: the answer is replaced
    if index == check.next_step:
        check.next_step += 1
    if check.next_step < len(STEPS):
        return [await ask(turn, check)]
    check.completed_at = turn.now
    await forget(turn)
    logger.info("figure-eight check %s completed in partnership %s", check.id,
                turn.partnership.id)
    return [*await result(turn, check), turn.say("eight_share_hint")]


@registry.text_flow(FLOW)
async def typed(turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
    """Names typed for a names step; a score (1-5 or "?") for the others."""
    index = int(data["step"])
    if says_stop(text):
        await forget(turn)
        return [turn.say("eight_stopped")]
    if 0 <= index < len(STEPS) and STEPS[index].kind == "names":
        if typed_number(text) is not None:  # "2" is no one's name: ask again, kindly
            return [turn.say("eight_names_not_number")]
        nobody = text.strip().lower().rstrip(".!") in NOBODY_WORDS
        return await answer(turn, int(data["check_id"]), index, "none" if nobody else text)
    value = parse_typed_answer(text)
    if value is None:
        return [turn.say("eight_typed_help")]
    return await answer(turn, int(data["check_id"]), index, value)


@registry.action("e8")  # e8:<check id>:<step>:<1-5|dk|skip|none>
async def act_answer(turn: Turn, parts: list[str]) -> list[Reply]:
    value = parts[2]
    if value not in ("none", "dk", "skip", "1", "2", "3", "4", "5"):
        raise ValueError(value)
    index = int(parts[1])
    if not 0 <= index < len(STEPS) or (value == "none") != (STEPS[index].kind == "names"):
        raise ValueError(value)
    return await answer(turn, int(parts[0]), index, value)


async def latest(session: AsyncSession, content: Content, partnership: Partnership,
                 lang: str) -> drawing.Eight | None:
    """The partnership's latest completed eight, for the summary and `achtje toon`."""
    check = await store.latest_completed_check(session, partnership.id)
    return None if check is None else await _eight(session, content, check, lang)


def words(content: Content, lang: str) -> drawing.Words:
    return drawing.Words(*(content.text(f"eight_legend_{key}", lang) for key in
                           ("nobody", "strong", "fair", "weak", "missing", "unknown")))


async def result(turn: Turn, check: FigureEightCheck) -> list[Reply]:
    """The picture and, in words, which links are weak and what to talk about."""
    eight = await _eight(turn.session, turn.content, check, turn.lang)
    png = await asyncio.to_thread(drawing.draw, eight, words(turn.content, turn.lang))
    when = turn.content.day(turn.local_date(check.started_at), turn.lang)
    caption = turn.t("eight_caption", school_a=eight.schools[0], school_b=eight.schools[1],
                     date=when)
    return [Image(png=png, caption=caption), Text(text=_weak_links_text(turn, eight))]


def _weak_links_text(turn: Turn, eight: drawing.Eight) -> str:
    weak = [link for link in drawing.links(eight) if link.weak]
    if not weak:
        return turn.t("eight_closed")
    rows = []
    for link in weak:
        level = eight.levels[link.level].name
        score = turn.t("eight_legend_missing") if link.missing else str(link.score)
        if link.school is None:
            key = "eight_weak_between"
            rows.append(turn.t(key, level=level, school_a=eight.schools[0],
                               school_b=eight.schools[1], score=score))
        else:
            lower = eight.levels[link.level + 1].name
            rows.append(turn.t("eight_weak_inside", upper=level, lower=lower,
                               school=eight.schools[link.school], score=score))
    weakest = min(weak, key=lambda link: (link.score or 0) if not link.missing else -1)
    about = turn.content.figure_eight.levels[weakest.level]
    questions = [q.get(turn.lang) for q in about.questions[1:]]
    return turn.t("eight_weak", links=bullet_list(rows), level=about.name.get(turn.lang),
                  questions=bullet_list(questions))


async def _eight(session: AsyncSession, content: Content, check: FigureEightCheck,
                 lang: str) -> drawing.Eight:
    levels, links = await store.check_rows(session, check.id)
    school_a, school_b = await _schools(session, check)
    by_key = {(row.school_id, row.level): row for row in levels}
    between = {row.level: row.score for row in links}
    found = []
    for level_id in LEVEL_IDS:
        rows = (by_key.get((school_a.id, level_id)), by_key.get((school_b.id, level_id)))
        found.append(drawing.EightLevel(
            name=content.level_name(level_id, lang),
            names=(rows[0].names if rows[0] else "", rows[1].names if rows[1] else ""),
            inside=(rows[0].inside if rows[0] else None, rows[1].inside if rows[1] else None),
            between=between.get(level_id),
        ))
    partnership = await session.get(Partnership, check.partnership_id)
    title = content.text("eight_title", lang, partnership=partnership.name if partnership else "")
    return drawing.Eight(title, (school_a.name, school_b.name), (found[0], found[1], found[2]))


async def _asking(turn: Turn, check_id: int, index: int) -> bool:
    """Whether the member's open question is this step of this check."""
    state = await repo.conversation(turn.session, turn.member.id)
    return (state is not None and state.flow == FLOW
            and state.data.get("check_id") == check_id and state.data.get("step") == index)


async def _schools(session: AsyncSession, check: FigureEightCheck) -> tuple[School, School]:
    school_a = await session.get(School, check.school_a_id)
    school_b = await session.get(School, check.school_b_id)
    assert school_a is not None and school_b is not None  # cascaded with the check
    return school_a, school_b


def _level(content: Content, level_id: str) -> LevelContent:
    return next(level for level in content.figure_eight.levels if level.id == level_id)
