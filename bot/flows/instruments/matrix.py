"""The impact matrix: from the impact a partnership wants to make, through concrete goals,
to each goal's activities, who contributes, what it takes, how progress shows and the next
level.

A partnership's matrix holds several goals; each goal has its own rows for the other six
steps (a step may hold several rows: three activities, two ways to notice progress). Any
member of the partnership adds, changes and removes goals and rows: it is the team's plan.
Who changed a goal or row last is kept as bookkeeping (and loses the name on erasure); it
is never shown as someone's opinion. In chat the matrix is a short list table per goal;
`achtje plan --partnership ID` prints it as Markdown (`plan_markdown`).

Typed texts are shown as typed: the adapters escape them for their platform.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import registry
from bot.content import Content, MatrixStep
from bot.flows.instruments.common import first_word, forget, public
from bot.flows.instruments.matrix_table import (
    GOAL_STEP,
    Matrix,
    plan_markdown,
    read,
    render_goal,
    render_tables,
    row_steps,
    shorten,
    step_of,
)
from bot.flows.state import Choosing
from bot.flows.turn import Turn, clean_text, typed_number
from bot.messages import FreeText, Noted, Option, Reply, Text
from bot.store import repo
from bot.store.matrix import MatrixEntry, MatrixGoal
from bot.store.models import Partnership

logger = logging.getLogger(__name__)

FLOW = "matrix"
PREFIX = "mx"
SHOW_WORDS = {"toon", "show", "plan", "bekijk", "view", "tabel", "table"}
ADD_WORDS = {"doel", "goal", "nieuw", "new", "toevoegen", "add"}
MAX_TITLE = 200
MAX_STEP_TEXT = 2000
OVERVIEW_CUT = 90  # characters of a row shown in the overview of all goals
GOAL_CUT = 300  # ... and in one goal's table (a row's own button shows all of it)
LABEL_CUT = 60  # characters on a button (Slack shows up to 75)
MAX_ROW_BUTTONS = 20


@registry.command("matrix", "impactmatrix")
async def command(turn: Turn, arg: str) -> list[Reply]:
    """`matrix`: the goals and a menu (or, with none yet, the first goal's questions);
    `matrix 2`: goal 2 to work on; `matrix doel toevoegen`: a new goal; `matrix toon`:
    the whole matrix for everyone in the chat."""
    word = first_word(arg).lower()
    matrix = await read(turn.session, turn.partnership.id)
    if word in SHOW_WORDS:
        if not matrix.goals:
            return [turn.say("matrix_no_plan")]
        return [public(text) for text in render_tables(turn.content, turn.partnership, matrix,
                                                       turn.lang, cut=OVERVIEW_CUT)]
    if word in ADD_WORDS:
        return [await ask_title(turn, None, walk=True)]
    number = typed_number(word) if word else None
    if number is not None and 1 <= number <= len(matrix.goals):
        return await goal_view(turn, matrix, matrix.goals[number - 1])
    if word:
        return [turn.say("matrix_usage")]
    if not matrix.goals:
        return [turn.say("matrix_intro"),
                await ask_title(turn, None, walk=True)]
    options = [Option(shorten(turn.t("matrix_goal_button", number=matrix.number(goal),
                                  title=_title(turn, matrix, goal)), LABEL_CUT),
                      f"{PREFIX}:g:{goal.id}") for goal in matrix.goals]
    options.append(Option(turn.t("matrix_new_goal_button"), f"{PREFIX}:new"))
    return [*render_tables(turn.content, turn.partnership, matrix, turn.lang, cut=OVERVIEW_CUT),
            await turn.ask(turn.t("matrix_pick_goal"), options)]


async def ask_title(turn: Turn, goal: MatrixGoal | None, walk: bool) -> Reply:
    """The title of a new goal (then, when walking, its steps one by one), or a new title."""
    await repo.set_conversation(turn.session, turn.member.id, FLOW,
                                {"do": "title", "goal": goal.id if goal else None,
                                 "walk": walk}, turn.now)
    step = step_of(turn.content, GOAL_STEP)
    prompt = turn.t("matrix_ask_goal", question=step.question.get(turn.lang),
                    hint=step.hint.get(turn.lang))
    if goal is not None:
        prompt += "\n" + turn.t("matrix_current", text=goal.title)
    return FreeText(prompt=prompt)


async def ask_row(turn: Turn, goal: MatrixGoal, step: MatrixStep, walk: bool,
                  number: int) -> Reply:
    """One step's question for a goal, with an example; while walking it can be skipped."""
    await repo.set_conversation(turn.session, turn.member.id, FLOW,
                                {"do": "add", "goal": goal.id, "step": step.id, "walk": walk},
                                turn.now)
    steps = row_steps(turn.content)
    prompt = turn.t("matrix_step", goal=number, number=steps.index(step) + 1,
                    total=len(steps), name=step.name.get(turn.lang),
                    question=step.question.get(turn.lang), hint=step.hint.get(turn.lang))
    skip = (Option(turn.t("matrix_skip"), f"{PREFIX}:next:{goal.id}:{step.number}") if walk
            else Option(turn.t("matrix_keep"), f"{PREFIX}:keep"))
    return FreeText(prompt=prompt, skip=skip)


async def goal_view(turn: Turn, matrix: Matrix, goal: MatrixGoal,
                    before: list[Reply] | None = None) -> list[Reply]:
    """A goal's table and what can be done with it."""
    options = [Option(turn.t("matrix_add_row_button", name=step.name.get(turn.lang)),
                      f"{PREFIX}:add:{goal.id}:{step.number}")
               for step in row_steps(turn.content)]
    if matrix.rows(goal):
        options.append(Option(turn.t("matrix_rows_button"), f"{PREFIX}:rows:{goal.id}"))
    options += [Option(turn.t("matrix_rename_button"), f"{PREFIX}:title:{goal.id}"),
                Option(turn.t("matrix_drop_button"), f"{PREFIX}:drop:{goal.id}")]
    table = render_goal(turn.content, matrix, goal, turn.lang, cut=GOAL_CUT)
    return [*(before or []), Text(text=table),
            await turn.ask(turn.t("matrix_goal_menu"), options)]


@registry.text_flow(FLOW, stopped="matrix_stopped")
async def typed(turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
    """A goal's title, a new row for a step, or a row's new text, as the question asked."""
    if typed_number(text) is not None:  # "1" says nothing about a goal or step: ask again
        return [turn.say("matrix_not_number")]
    do = str(data.get("do", ""))
    limit = MAX_TITLE if do == "title" else MAX_STEP_TEXT
    value, shortened = clean_text(text, limit=limit)
    if not value:
        return [turn.say("matrix_typed_help")]
    saved = [turn.say("matrix_shortened", limit=limit)] if shortened else []
    matrix = await read(turn.session, turn.partnership.id)
    try:
        return saved + await _save(turn, matrix, data, value)
    except ValueError:  # a teammate removed the goal or row meanwhile
        await forget(turn)
        return [turn.say("matrix_gone")]


async def _save(turn: Turn, matrix: Matrix, data: dict[str, Any], value: str) -> list[Reply]:
    do = str(data.get("do", ""))
    if do == "title":
        return await _titled(turn, matrix, data, value)
    if do == "add":
        goal = _goal(matrix, data.get("goal"))
        step = step_of(turn.content, str(data["step"]))
        entry = MatrixEntry(partnership_id=turn.partnership.id, goal_id=goal.id,
                            step_id=step.id, text=value, updated_by=turn.member.id,
                            updated_at=turn.now)
        turn.session.add(entry)
        await turn.session.flush()
        logger.info("matrix row %s added to goal %s", entry.id, goal.id)
        return await _after(turn, goal, step, walk=bool(data.get("walk")))
    entry = _entry(matrix, data.get("entry"))
    entry.text, entry.updated_by, entry.updated_at = value, turn.member.id, turn.now
    await turn.session.flush()
    await forget(turn)
    goal = _goal(matrix, entry.goal_id)
    step = step_of(turn.content, entry.step_id)
    return await goal_view(turn, await read(turn.session, turn.partnership.id), goal,
                           [turn.say("matrix_saved", name=step.name.get(turn.lang))])


async def _titled(turn: Turn, matrix: Matrix, data: dict[str, Any], title: str) -> list[Reply]:
    if data.get("goal") is not None:
        goal = _goal(matrix, data["goal"])
        goal.title, goal.updated_by, goal.updated_at = title, turn.member.id, turn.now
        await turn.session.flush()
        await forget(turn)
        return await goal_view(turn, await read(turn.session, turn.partnership.id), goal,
                               [turn.say("matrix_renamed")])
    goal = MatrixGoal(partnership_id=turn.partnership.id, title=title, created_at=turn.now,
                      updated_by=turn.member.id, updated_at=turn.now)
    turn.session.add(goal)
    await turn.session.flush()
    logger.info("matrix goal %s added in partnership %s", goal.id, turn.partnership.id)
    number = len(matrix.goals) + 1
    if data.get("walk"):
        return [turn.say("matrix_goal_added", number=number),
                await ask_row(turn, goal, row_steps(turn.content)[0], True, number)]
    await forget(turn)
    return await goal_view(turn, await read(turn.session, turn.partnership.id), goal,
                           [turn.say("matrix_goal_added", number=number)])


async def _after(turn: Turn, goal: MatrixGoal, step: MatrixStep, walk: bool) -> list[Reply]:
    """While walking: the goal's next step; else (or at the end) the goal's table."""
    matrix = await read(turn.session, turn.partnership.id)
    if walk:
        later = [s for s in row_steps(turn.content) if s.number > step.number]
        if later:
            return [await ask_row(turn, goal, later[0], True, matrix.number(goal))]
    await forget(turn)
    said = turn.say("matrix_done" if walk else "matrix_added", name=step.name.get(turn.lang))
    return await goal_view(turn, matrix, goal, [said])


# mx:new | mx:keep | mx:g|rows|title|drop|drop_yes:<goal> | mx:add|next:<goal>:<step number>
# | mx:e|edit|del:<row>
@registry.action(PREFIX)
async def act(turn: Turn, parts: list[str]) -> list[Reply]:
    """The matrix's buttons; goal and row ids are checked against the presser's partnership."""
    what = parts[0]
    matrix = await read(turn.session, turn.partnership.id)
    if what == "new":
        return [await ask_title(turn, None, walk=True)]
    if what == "keep":
        if not await _asking(turn):
            return [Noted()]
        await forget(turn)
        return [turn.say("matrix_kept")]
    if what in ("add", "next"):
        goal = _goal(matrix, parts[1])
        step = _row_step(turn.content, int(parts[2]))
        if what == "add":
            return [await ask_row(turn, goal, step, False, matrix.number(goal))]
        if not await _asking(turn, step.id):
            return [Noted()]  # pressed twice: this step was passed already
        return await _after(turn, goal, step, walk=True)
    if what in ("e", "edit", "del"):
        return await _act_row(turn, matrix, what, _entry(matrix, parts[1]))
    goal = _goal(matrix, parts[1])
    if what == "g":
        return await goal_view(turn, matrix, goal)
    if what == "title":
        return [await ask_title(turn, goal, walk=False)]
    if what == "rows":
        rows = matrix.rows(goal)[:MAX_ROW_BUTTONS]
        options = [Option(shorten(f"{step_of(turn.content, row.step_id).name.get(turn.lang)}: "
                               f"{row.text}", LABEL_CUT), f"{PREFIX}:e:{row.id}")
                   for row in rows]
        options.append(Option(turn.t("matrix_back_button"), f"{PREFIX}:g:{goal.id}"))
        return [await turn.ask(turn.t("matrix_pick_row"), options)]
    if what == "drop":
        return [await turn.ask(turn.t("matrix_drop_confirm", number=matrix.number(goal),
                                      title=_title(turn, matrix, goal)), [
            Option(turn.t("matrix_drop_yes"), f"{PREFIX}:drop_yes:{goal.id}"),
            Option(turn.t("matrix_drop_no"), f"{PREFIX}:g:{goal.id}")])]
    if what == "drop_yes":
        # Only right after the question: an old or hand-typed value removes nothing.
        asked = Choosing.of(await repo.conversation(turn.session, turn.member.id))
        if asked is None or not asked.offers(f"{PREFIX}:drop_yes:{goal.id}"):
            return [turn.say("stale_button")]
        number = matrix.number(goal)
        await turn.session.delete(goal)
        await turn.session.flush()
        await forget(turn)
        logger.info("matrix goal %s removed in partnership %s", goal.id, turn.partnership.id)
        return [turn.say("matrix_goal_dropped", number=number)]
    raise ValueError(what)


async def _act_row(turn: Turn, matrix: Matrix, what: str, row: MatrixEntry) -> list[Reply]:
    goal = _goal(matrix, row.goal_id)
    step = step_of(turn.content, row.step_id)
    if what == "e":
        return [await turn.ask(turn.t("matrix_row", name=step.name.get(turn.lang),
                                      text=row.text), [
            Option(turn.t("matrix_edit_button"), f"{PREFIX}:edit:{row.id}"),
            Option(turn.t("matrix_remove_button"), f"{PREFIX}:del:{row.id}"),
            Option(turn.t("matrix_back_button"), f"{PREFIX}:g:{goal.id}")])]
    if what == "edit":
        await repo.set_conversation(turn.session, turn.member.id, FLOW,
                                    {"do": "edit", "entry": row.id}, turn.now)
        return [FreeText(prompt=turn.t("matrix_edit_row", name=step.name.get(turn.lang),
                                       text=row.text),
                         skip=Option(turn.t("matrix_keep"), f"{PREFIX}:keep"))]
    await turn.session.delete(row)
    await turn.session.flush()
    await forget(turn)
    return await goal_view(turn, await read(turn.session, turn.partnership.id), goal,
                           [turn.say("matrix_removed", name=step.name.get(turn.lang))])


def _title(turn: Turn, matrix: Matrix, goal: MatrixGoal) -> str:
    return goal.title or turn.t("matrix_untitled", number=matrix.number(goal))


async def plan_document(session: AsyncSession, content: Content, partnership: Partnership,
                        lang: str) -> str:
    """The partnership's matrix as Markdown, read in the caller's transaction (the CLI)."""
    return plan_markdown(content, partnership, await read(session, partnership.id), lang)


def _row_step(content: Content, number: int) -> MatrixStep:
    for step in row_steps(content):
        if step.number == number:
            return step
    raise ValueError(number)


def _goal(matrix: Matrix, goal_id: Any) -> MatrixGoal:
    """The partnership's goal with this id; a stale or foreign id is refused."""
    for goal in matrix.goals:
        if str(goal.id) == str(goal_id):
            return goal
    raise ValueError(goal_id)


def _entry(matrix: Matrix, entry_id: Any) -> MatrixEntry:
    for entry in matrix.entries:
        if str(entry.id) == str(entry_id):
            return entry
    raise ValueError(entry_id)


async def _asking(turn: Turn, step_id: str | None = None) -> bool:
    """Whether the member's open question is the matrix's (for this step, if given)."""
    state = await repo.conversation(turn.session, turn.member.id)
    if state is None or state.flow != FLOW:
        return False
    return step_id is None or state.data.get("step") == step_id
