"""The impact matrix: seven steps from the impact a partnership wants to make, through goals,
activities, who contributes, what it takes and how progress shows, to the next level.

The answers are the partnership's plan. A project leader fills it in step by step and can
revise any step later (the latest text counts, with when it changed); everyone can read it,
and `achtje plan --partnership ID` prints it as Markdown (`plan_markdown`).
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import registry
from bot.content import Content, MatrixStep
from bot.flows.instruments.common import first_word, forget, may_lead, public
from bot.flows.roles import leaders_only
from bot.flows.turn import Turn, clean_text, says_stop, typed_number
from bot.messages import FreeText, Noted, Option, Reply, Text
from bot.store import instruments as store
from bot.store import repo
from bot.store.instruments import PlanStep
from bot.store.models import Partnership

logger = logging.getLogger(__name__)

FLOW = "matrix"
SHOW_WORDS = {"toon", "show", "plan", "bekijk", "view"}
MAX_STEP_TEXT = 2000


@registry.command("matrix", "impactmatrix", leader_words=("", "2"))
async def command(turn: Turn, arg: str) -> list[Reply]:
    """`matrix` walks a leader through the empty steps (or offers one to revise);
    `matrix 3` revises step 3; `matrix toon` shows the plan to the chat."""
    word = first_word(arg)
    plan = await store.plan_steps(turn.session, turn.partnership.id)
    if word in SHOW_WORDS:
        if not plan:
            return [turn.say("matrix_no_plan")]
        return [public(Text(text=render_plan(turn.content, turn.partnership, plan, turn.lang)))]
    if not may_lead(turn.member):
        return [Text(text=render_plan(turn.content, turn.partnership, plan, turn.lang)),
                *leaders_only(turn)]
    steps = turn.content.impact_matrix
    if word.isdigit() and 1 <= int(word) <= len(steps):
        return [await ask_step(turn, steps[int(word) - 1], plan, walk=False)]
    if word:
        return [turn.say("matrix_usage", total=len(steps))]
    missing = [step for step in steps if step.id not in plan]
    if missing:
        first = [turn.say("matrix_intro", total=len(steps))] if not plan else []
        return [*first, await ask_step(turn, missing[0], plan, walk=True)]
    options = [Option(f"{s.number}. {s.name.get(turn.lang)}", f"mx:{s.number}") for s in steps]
    return [Text(text=render_plan(turn.content, turn.partnership, plan, turn.lang)),
            await turn.ask(turn.t("matrix_pick_step"), options)]


async def ask_step(turn: Turn, step: MatrixStep, plan: dict[str, PlanStep], walk: bool) -> Reply:
    """One step's question with its example and, when revising, what it says now."""
    await repo.set_conversation(turn.session, turn.member.id, FLOW,
                                {"step": step.id, "walk": walk}, turn.now)
    prompt = turn.t("matrix_step", number=step.number, total=len(turn.content.impact_matrix),
                    name=step.name.get(turn.lang), question=step.question.get(turn.lang),
                    hint=step.hint.get(turn.lang))
    if step.id in plan:
        prompt += "\n" + turn.t("matrix_current", text=plan[step.id].text)
    skip = (Option(turn.t("matrix_skip"), f"mx:{step.number}:next") if walk
            else Option(turn.t("matrix_keep"), f"mx:{step.number}:keep"))
    return FreeText(prompt=prompt, skip=skip)


@registry.text_flow(FLOW)
async def typed(turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
    """The text for the step last asked: stored as the plan's latest version of it."""
    if not may_lead(turn.member):
        await forget(turn)
        return leaders_only(turn)
    step = _step(turn.content, str(data["step"]))
    if says_stop(text):
        await forget(turn)
        return [turn.say("matrix_stopped")]
    if typed_number(text) is not None:  # "1" says nothing about a step: ask again, kindly
        return [turn.say("matrix_not_number")]
    value, shortened = clean_text(text, limit=MAX_STEP_TEXT)
    if not value:
        return [turn.say("matrix_typed_help")]
    await store.upsert(turn.session, PlanStep,
                       {"partnership_id": turn.partnership.id, "step_id": step.id},
                       {"text": value, "updated_by": turn.member.id, "updated_at": turn.now})
    logger.info("plan step %s of partnership %s updated", step.id, turn.partnership.id)
    saved = [turn.say("matrix_shortened", limit=MAX_STEP_TEXT)] if shortened else []
    return saved + await _after(turn, step, walk=bool(data.get("walk")))


@registry.action("mx")  # mx:<step number>[:next|keep]
async def act_step(turn: Turn, parts: list[str]) -> list[Reply]:
    """`mx:<n>` revise step n; `mx:<n>:next` skip it while walking; `mx:<n>:keep` leave it."""
    if not may_lead(turn.member):
        return leaders_only(turn)
    if not 1 <= int(parts[0]) <= len(turn.content.impact_matrix):
        raise ValueError(parts[0])
    step = turn.content.impact_matrix[int(parts[0]) - 1]
    how = parts[1] if len(parts) > 1 else ""
    asking = await _asking(turn, step.id)
    if (how in ("next", "keep") and not asking) or (how == "" and asking):
        return [Noted()]  # pressed twice: this step was passed, or is asked already
    if how == "next":
        return await _after(turn, step, walk=True)
    if how == "keep":
        await forget(turn)
        return [turn.say("matrix_kept", name=step.name.get(turn.lang))]
    if how:
        raise ValueError(how)
    plan = await store.plan_steps(turn.session, turn.partnership.id)
    return [await ask_step(turn, step, plan, walk=False)]


async def _after(turn: Turn, step: MatrixStep, walk: bool) -> list[Reply]:
    """While walking: the next empty step after this one, or the plan when none is left."""
    plan = await store.plan_steps(turn.session, turn.partnership.id)
    if walk:
        later = [s for s in turn.content.impact_matrix
                 if s.number > step.number and s.id not in plan]
        if later:
            return [await ask_step(turn, later[0], plan, walk=True)]
    await forget(turn)
    if walk:
        return [turn.say("matrix_done"),
                Text(text=render_plan(turn.content, turn.partnership, plan, turn.lang))]
    return [turn.say("matrix_saved", name=step.name.get(turn.lang))]


def render_plan(content: Content, partnership: Partnership, plan: dict[str, PlanStep],
                lang: str) -> str:
    """The plan as plain chat text: each step with its text, or that it is still empty."""
    if not plan:
        return content.text("matrix_no_plan", lang)
    rows = [content.text("matrix_plan_title", lang, partnership=partnership.name)]
    for step in content.impact_matrix:
        given = plan.get(step.id)
        text = given.text if given else content.text("matrix_empty_step", lang)
        rows.append(f"{step.number}. {step.name.get(lang)}: {text}")
    return "\n".join(rows)


def plan_markdown(content: Content, partnership: Partnership, plan: dict[str, PlanStep],
                  lang: str) -> str:
    """The plan as a Markdown document, for the steering group's own files."""
    zone = ZoneInfo(partnership.timezone)
    parts = [f"# {content.text('matrix_plan_title', lang, partnership=partnership.name)}", ""]
    for step in content.impact_matrix:
        parts += [f"## {step.number}. {step.name.get(lang)}", "",
                  f"> {step.question.get(lang)}", ""]
        given = plan.get(step.id)
        if given is None:
            parts += [f"_{content.text('matrix_empty_step', lang)}_", ""]
            continue
        when = content.day(given.updated_at.astimezone(zone).date(), lang)
        parts += [given.text, "", f"_{content.text('matrix_updated', lang, date=when)}_", ""]
    return "\n".join(parts).rstrip() + "\n"


def _step(content: Content, step_id: str) -> MatrixStep:
    for step in content.impact_matrix:
        if step.id == step_id:
            return step
    raise KeyError(step_id)


async def plan_document(session: AsyncSession, content: Content, partnership: Partnership,
                        lang: str) -> str:
    """The partnership's plan as Markdown, read in the caller's transaction (the CLI)."""
    plan = await store.plan_steps(session, partnership.id)
    return plan_markdown(content, partnership, plan, lang)


async def _asking(turn: Turn, step_id: str) -> bool:
    """Whether the member's open question is this step of the plan."""
    state = await repo.conversation(turn.session, turn.member.id)
    return state is not None and state.flow == FLOW and state.data.get("step") == step_id
