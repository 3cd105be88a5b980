"""The figure-eight ("het achtje"): how well the levels are connected inside each school
and with the same level at the other schools, for any number of schools, from everyone's
ratings.

The partnership has one open round. Each member rates only the links they can see from
their own school and level (`eight_links.member_links`); `achtje` asks what they have not
rated yet, `achtje opnieuw` walks them through their links again, `achtje toon` shows the
eight to the chat, and a leader's `achtje nieuw` closes the round and opens a fresh one.
A link shows the median of its ratings with n, from three ratings on, and a shown figure
changes only when three more came in (see `eight_links.shown_figures`). The weakest link
comes with questions on roles, communication, and where and how agreements are carried.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot import registry
from bot.domain import LEVEL_IDS
from bot.flows.checkin import parse_typed_answer
from bot.flows.instruments import drawing
from bot.flows.instruments.common import (
    bullet_list,
    first_word,
    forget,
    group_minimum,
    may_lead,
    public,
    scale_options,
)
from bot.flows.instruments.eight_links import (
    Figure,
    Link,
    Rating,
    all_links,
    member_links,
    shown_figures,
)
from bot.flows.roles import leaders_only
from bot.flows.turn import Turn
from bot.messages import Choice, Image, Noted, Option, Reply, Scale, Text
from bot.store import instruments as store
from bot.store import repo
from bot.store.instruments import FigureEightCheck
from bot.store.models import School

logger = logging.getLogger(__name__)

FLOW = "figure_eight"
NEW_WORDS = {"nieuw", "new", "start"}
AGAIN_WORDS = {"opnieuw", "again", "wijzig", "wijzigen", "change"}
SHOW_WORDS = {"toon", "show", "plaatje", "image", "laatste", "latest"}
STOP = "stop"


@registry.command("achtje", "figure8", "figure-eight", "eight")
async def command(turn: Turn, arg: str) -> list[Reply]:
    """`achtje` asks the member's links still open; `opnieuw` all of them again; `toon`
    shows the eight to the chat; `nieuw` (leaders) starts a fresh round."""
    word = first_word(arg)
    if word in SHOW_WORDS:
        return await show(turn)
    schools = _schools(turn)
    if len(schools) < 2:
        return [turn.say("eight_needs_two_schools")]
    if word in NEW_WORDS:
        return await new_round(turn)
    links = member_links([s.id for s in schools], turn.member.school_id, turn.member.level)
    if not links:
        return [turn.say("eight_needs_place")]
    check = await store.open_round(turn.session, turn.partnership.id) or await _start(turn)
    rated = {r.link for r in await store.ratings(turn.session, check.id, turn.member.id)}
    if word in AGAIN_WORDS:
        index = 0
    else:
        index = next((n for n, link in enumerate(links) if link.key not in rated), len(links))
    if index == len(links):
        return [*await result(turn, check), turn.say("eight_all_rated")]
    intro = turn.t("eight_intro", intro=turn.content.figure_eight.intro.get(turn.lang),
                   closed_when=turn.content.figure_eight.closed_when.get(turn.lang),
                   count=len(links), minimum=group_minimum(turn))
    stop = Option(turn.t("eight_stop_button"), f"e8:{check.id}:{STOP}")
    return [Choice(prompt=intro, options=(stop,)), await ask(turn, check, links, index)]


async def new_round(turn: Turn) -> list[Reply]:
    if not may_lead(turn.member):
        return leaders_only(turn)
    check = await store.open_round(turn.session, turn.partnership.id)
    if check is not None:
        check.completed_at = turn.now
    await _start(turn)
    return [public(turn.say("eight_new_round", minimum=group_minimum(turn)))]


async def show(turn: Turn) -> list[Reply]:
    check = await store.open_round(turn.session, turn.partnership.id)
    if check is None or not await store.ratings(turn.session, check.id):
        return [turn.say("eight_none_yet")]
    return [public(reply) for reply in await result(turn, check)]


async def ask(turn: Turn, check: FigureEightCheck, links: list[Link], index: int) -> Reply:
    """The question on the member's `index`th link, remembered so a typed score fits it."""
    await repo.set_conversation(turn.session, turn.member.id, FLOW,
                                {"check_id": check.id, "step": index, "place": _place(turn)},
                                turn.now)
    link = links[index]
    names = {s.id: s.name for s in _schools(turn)}
    if link.kind == "inside":
        question = turn.t("eight_ask_inside", school=names[link.schools[0]],
                          upper=_level(turn, link.level), lower=_level(turn, link.lower))
    else:
        question = turn.t("eight_ask_link", level=_level(turn, link.level),
                          school_a=names[link.schools[0]], school_b=names[link.schools[1]])
    labels = [turn.t(f"eight_score_{score}") for score in range(1, 6)]
    head = turn.t("eight_step", number=index + 1, total=len(links))
    return Scale(prompt=f"{head}\n{question}",
                 options=tuple(scale_options(turn, f"e8:{check.id}:{index}:{_place(turn)}",
                                             labels)))


async def answer(turn: Turn, check_id: int, index: int, value: str) -> list[Reply]:
    """Keep one rating (1-5, or None for "dk"/"skip"), then ask the next link or, after the
    last, show the eight as it stands."""
    check = await turn.session.get(FigureEightCheck, check_id)
    links = member_links([s.id for s in _schools(turn)], turn.member.school_id,
                         turn.member.level)
    if (check is None or check.partnership_id != turn.partnership.id
            or check.school_a_id is not None or not 0 <= index < len(links)):
        return [turn.say("stale_button")]
    if check.completed_at is not None:
        return [turn.say("eight_round_closed")]
    score = None if value in ("dk", "skip") else int(value)
    asking = await _asking(turn, check.id, index)
    await store.rate(turn.session, check.id, turn.member.id, links[index].key, score, turn.now)
    if not asking:
        return [Noted()]  # a tap on an earlier question: the rating is replaced
    if index + 1 < len(links):
        return [await ask(turn, check, links, index + 1)]
    await forget(turn)
    logger.info("figure-eight round %s: member %s rated their links", check.id,
                turn.member.id)
    return [*await result(turn, check), turn.say("eight_share_hint")]


async def stop(turn: Turn) -> list[Reply]:
    await forget(turn)
    return [turn.say("eight_stopped")]


@registry.text_flow(FLOW, stopped="eight_stopped")
async def typed(turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
    """A typed score (1-5, "?" or "overslaan") for the link last asked."""
    value = parse_typed_answer(text)
    if value is None:
        return [turn.say("eight_typed_help")]
    if data.get("place", _place(turn)) != _place(turn):
        await forget(turn)
        return [turn.say("stale_button")]
    return await answer(turn, int(data["check_id"]), int(data["step"]), value)


# e8:<round>:<step>:<school>.<level>:<1-5|dk|skip> (older buttons: without the place), or
# e8:<round>:stop. The place the question was asked for: a link is the member's `step`th
# only while their school and level stay what they were.
@registry.action("e8")
async def act_answer(turn: Turn, parts: list[str]) -> list[Reply]:
    if parts[1:] == [STOP]:
        return await stop(turn)
    *asked, value = parts
    if value not in ("dk", "skip", "1", "2", "3", "4", "5") or len(asked) not in (2, 3):
        raise ValueError(value)
    if len(asked) == 3 and asked[2] != _place(turn):
        return [turn.say("stale_button")]
    return await answer(turn, int(asked[0]), int(asked[1]), value)


async def figures(turn: Turn, check: FigureEightCheck) -> dict[str, Figure]:
    """The figure of every link as it may be shown now; what is shown is kept."""
    rows = await store.ratings(turn.session, check.id)
    found, kept = shown_figures((Rating(r.link, r.score, r.seq) for r in rows), check.shown,
                                group_minimum(turn))
    if kept != (check.shown or {}):
        check.shown = kept
    return found


async def result(turn: Turn, check: FigureEightCheck) -> list[Reply]:
    """The picture and, in words, the weak links and what to talk about first."""
    schools = _schools(turn)
    found = await figures(turn, check)
    counts = await store.members_by_place(turn.session, turn.partnership.id)
    boxes = tuple(tuple(turn.t("eight_box", count=counts.get((school.id, level), 0))
                        for school in schools) for level in LEVEL_IDS)
    eight = drawing.Eight(
        title=turn.t("eight_title", partnership=turn.partnership.name),
        schools=tuple((s.id, s.name) for s in schools),
        levels=(_level(turn, LEVEL_IDS[0]), _level(turn, LEVEL_IDS[1]),
                _level(turn, LEVEL_IDS[2])),
        boxes=boxes, figures=found)
    words = drawing.Words(*(turn.t(f"eight_legend_{key}")
                            for key in ("strong", "fair", "weak", "too_few")))
    decimal = turn.content.decimal(0.5, turn.lang)[1]  # the separator of "0,5" or "0.5"
    png = await asyncio.to_thread(drawing.draw, eight, words, decimal)
    raters = len({r.member_id for r in await store.ratings(turn.session, check.id)})
    caption = turn.t("eight_caption", date=turn.content.day(turn.local_date(check.started_at),
                                                            turn.lang),
                     count=raters, minimum=group_minimum(turn))
    return [Image(png=png, caption=caption), Text(text=explain(turn, eight))]


def explain(turn: Turn, eight: drawing.Eight) -> str:
    """The weak links, how many links have too few ratings, and, for the weakest, the
    questions to talk about."""
    links = all_links([school for school, _ in eight.schools])
    shown = [(link, eight.figure(link)) for link in links if eight.figure(link).median is not None]
    too_few = len(links) - len(shown)
    parts = []
    weak = sorted((pair for pair in shown if pair[1].weak),
                  key=lambda pair: (pair[1].median, links.index(pair[0])))
    if weak:
        rows = [turn.t("eight_row", link=_name(turn, eight, link),
                       median=_median(turn, figure.median or 0.0),
                       count=figure.n) for link, figure in weak]
        parts.append(turn.t("eight_weak", links=bullet_list(rows)))
    elif shown:
        parts.append(turn.t("eight_no_weak"))
    if too_few:
        parts.append(turn.t("eight_too_few", count=too_few, minimum=group_minimum(turn)))
    if weak:
        link = weak[0][0]
        names = dict(eight.schools)
        if link.kind == "inside":
            why = turn.t("eight_why_inside", school=names[link.schools[0]],
                         upper=_level(turn, link.level), lower=_level(turn, link.lower))
        else:
            why = turn.t("eight_why_between", level=_level(turn, link.level),
                         school_a=names[link.schools[0]], school_b=names[link.schools[1]])
        parts.append(why)
    return "\n\n".join(parts)


def _median(turn: Turn, value: float) -> str:
    """A median as people write it: 2, or 2,5 in Dutch."""
    return str(int(value)) if value == int(value) else turn.content.decimal(value, turn.lang)


def _name(turn: Turn, eight: drawing.Eight, link: Link) -> str:
    names = dict(eight.schools)
    if link.kind == "inside":
        return turn.t("eight_link_inside", school=names[link.schools[0]],
                      upper=_level(turn, link.level), lower=_level(turn, link.lower))
    return turn.t("eight_link_between", level=_level(turn, link.level),
                  school_a=names[link.schools[0]], school_b=names[link.schools[1]])


async def _start(turn: Turn) -> FigureEightCheck:
    check = FigureEightCheck(partnership_id=turn.partnership.id, started_by=turn.member.id,
                             started_at=turn.now, next_step=0)
    turn.session.add(check)
    await turn.session.flush()
    logger.info("figure-eight round %s opened in partnership %s", check.id,
                turn.partnership.id)
    return check


async def _asking(turn: Turn, check_id: int, index: int) -> bool:
    """Whether the member's open question is this link of this round."""
    state = await repo.conversation(turn.session, turn.member.id)
    return (state is not None and state.flow == FLOW
            and state.data.get("check_id") == check_id and state.data.get("step") == index)


def _place(turn: Turn) -> str:
    """The member's school and level, which decide their links."""
    return f"{turn.member.school_id}.{turn.member.level}"


def _schools(turn: Turn) -> list[School]:
    return sorted(turn.partnership.schools, key=lambda school: school.id)


def _level(turn: Turn, level_id: str) -> str:
    return turn.content.level_name(level_id, turn.lang)
