"""Getting to know a member the first time they write: school, level, language."""

from __future__ import annotations

from typing import Any

from bot.domain import LEVEL_IDS
from bot.flows.turn import Turn
from bot.messages import Option, Reply


async def start(turn: Turn, resume: dict[str, Any] | None) -> list[Reply]:
    """Welcome the member and ask the first thing we do not know yet.

    `resume` is what they were doing (a command or a button) when we had to ask; it is
    carried through the questions and replayed once they are done.
    """
    welcome = turn.say("welcome", partnership=turn.partnership.name)
    return [welcome, await next_question(turn, resume)]


async def next_question(turn: Turn, resume: dict[str, Any] | None) -> Reply:
    keep = {"resume": resume} if resume else {}
    member = turn.member
    if member.school_id is None and turn.partnership.schools:
        options = [Option(s.name, f"school:{s.id}") for s in turn.partnership.schools]
        return await turn.ask(turn.t("ask_school"), options, keep)
    if member.level is None:
        options = [Option(turn.content.level_name(lv, turn.lang), f"level:{lv}")
                   for lv in LEVEL_IDS]
        return await turn.ask(turn.t("ask_level"), options, keep)
    return await turn.ask(turn.t("ask_language"), language_options(turn), keep)


def language_options(turn: Turn) -> list[Option]:
    return [Option(turn.t("language_nl"), "lang:nl"), Option(turn.t("language_en"), "lang:en")]
