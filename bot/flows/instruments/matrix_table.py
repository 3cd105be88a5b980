"""The impact matrix as it is read: a partnership's goals with their rows, as a short
list table per goal for chat (lines kept short for Slack and Telegram) and as Markdown for
the steering group's own files (`achtje plan`). No names: who changed a row is bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content, MatrixStep
from bot.messages import Text
from bot.store import matrix as store
from bot.store.matrix import MatrixEntry, MatrixGoal
from bot.store.models import Partnership

GOAL_STEP = "goals"  # the step whose answer is a goal's title; the others are its rows


@dataclass(frozen=True)
class Matrix:
    """A partnership's goals with their rows, as read in one turn."""

    goals: list[MatrixGoal]
    entries: list[MatrixEntry]

    def rows(self, goal: MatrixGoal, step_id: str | None = None) -> list[MatrixEntry]:
        return [e for e in self.entries
                if e.goal_id == goal.id and (step_id is None or e.step_id == step_id)]

    def number(self, goal: MatrixGoal) -> int:
        return self.goals.index(goal) + 1


async def read(session: AsyncSession, partnership_id: int) -> Matrix:
    return Matrix(await store.matrix_goals(session, partnership_id),
                  await store.matrix_entries(session, partnership_id))


def row_steps(content: Content) -> list[MatrixStep]:
    """The steps that are rows of a goal (all but the goal's own title)."""
    return [step for step in content.impact_matrix if step.id != GOAL_STEP]


def step_of(content: Content, step_id: str) -> MatrixStep:
    for step in content.impact_matrix:
        if step.id == step_id:
            return step
    raise KeyError(step_id)


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word where possible, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2:] else cut).rstrip(" ,.;:") + "…"


def render_goal(content: Content, matrix: Matrix, goal: MatrixGoal, lang: str,
                cut: int | None = None) -> str:
    """One goal as a list table: its title, then each step with its rows (or that it is empty)."""
    number = matrix.number(goal)
    title = goal.title or content.text("matrix_untitled", lang, number=number)
    lines = [content.text("matrix_goal_title", lang, number=number,
                          title=shorten(title, cut) if cut else title)]
    for step in row_steps(content):
        rows = matrix.rows(goal, step.id)
        if not rows:
            lines.append(f"{step.name.get(lang)}: {content.text('matrix_empty_step', lang)}")
            continue
        lines.append(f"{step.name.get(lang)}:")
        lines += [f"  • {shorten(row.text, cut) if cut else row.text}" for row in rows]
    return "\n".join(lines)


def render_tables(content: Content, partnership: Partnership, matrix: Matrix, lang: str,
                  cut: int | None = None) -> list[Text]:
    """The whole matrix: one message per goal, the first under the matrix's title."""
    if not matrix.goals:
        return [Text(text=content.text("matrix_no_plan", lang))]
    heading = content.text("matrix_plan_title", lang, partnership=partnership.name)
    texts = [render_goal(content, matrix, goal, lang, cut) for goal in matrix.goals]
    texts[0] = f"{heading}\n\n{texts[0]}"
    return [Text(text=text) for text in texts]


def plan_markdown(content: Content, partnership: Partnership, matrix: Matrix,
                  lang: str) -> str:
    """The matrix as a Markdown document, for the steering group's own files."""
    zone = ZoneInfo(partnership.timezone)
    parts = [f"# {content.text('matrix_plan_title', lang, partnership=partnership.name)}", ""]
    if not matrix.goals:
        parts += [f"_{content.text('matrix_no_plan', lang)}_", ""]
    for goal in matrix.goals:
        number = matrix.number(goal)
        title = goal.title or content.text("matrix_untitled", lang, number=number)
        parts += [f"## {content.text('matrix_goal_title', lang, number=number, title=title)}",
                  ""]
        for step in row_steps(content):
            parts += [f"### {step.name.get(lang)}", ""]
            rows = matrix.rows(goal, step.id)
            parts += [f"- {row.text}" for row in rows] or [
                f"_{content.text('matrix_empty_step', lang)}_"]
            parts.append("")
        changed: list[datetime] = [goal.updated_at, *(r.updated_at for r in matrix.rows(goal))]
        when = content.day(max(changed).astimezone(zone).date(), lang)
        parts += [f"_{content.text('matrix_updated', lang, date=when)}_", ""]
    return "\n".join(parts).rstrip() + "\n"
