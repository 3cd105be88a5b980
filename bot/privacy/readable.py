"""The personal export in words: what achtje holds about one member, as plain text in their
language, next to the JSON (`bot.privacy.data.export_member`).

It is written from the JSON export itself, which holds only rows that point at this member,
so it cannot show more than that does: the names of statements, pitfalls, coffee ideas and
months are looked up in content/ and in the partnership's own rounds, never another
person's answer or name (a coffee pairing says when and which idea, not with whom). A table
without a section of its own is still named, with its number of rows, so nothing is left
unmentioned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.store.models import CheckInRound, Member, Partnership
from bot.store.nudges import NudgeGroup, NudgeRound

Row = dict[str, Any]
# Rows shown in their own section; every other table of the export is named with a count.
SHOWN = {"member", "answer", "reflection_answer", "pitfall_vote", "nudge_group_member",
         "nudge_answer", "nudge_opt_out", "matrix_goal", "matrix_entry", "talk_plate_outcome",
         "conversation", "outbox"}
STARTED = {"reflection_session", "pitfall_poll", "figure_eight_check", "talk_plate"}


async def readable_export(session: AsyncSession, content: Content, data: dict[str, Any],
                          lang: str) -> str:
    """The JSON export `data` (from `export_member`) told in words, in `lang`."""
    member = await session.get(Member, int(data["member"]["id"]))
    partnership = await session.get(Partnership, member.partnership_id) if member else None
    zone = ZoneInfo(partnership.timezone if partnership else "Europe/Amsterdam")
    tables: dict[str, list[Row]] = data["tables"]

    def t(key: str, **values: object) -> str:
        return content.text(key, lang, **values)

    def day(value: Any) -> str:
        return content.day(_moment(value).astimezone(zone).date(), lang)

    months = await _round_months(session, content, tables.get("answer", []), zone, lang)
    pairings = await _pairings(session, tables.get("nudge_group_member", []))
    lines = [t("export_title", partnership=data.get("partnership") or "-"), ""]
    lines += _profile(content, data, lang, t, day)
    lines += _section(t("export_answers", count=len(tables.get("answer", []))), [
        line for row in tables.get("answer", [])
        for line in _answer(content, row, lang, t, months.get(row["round_id"]))])
    lines += _section(t("export_reflection", count=len(tables.get("reflection_answer", []))), [
        line for row in tables.get("reflection_answer", [])
        for line in _answer(content, row, lang, t, day(row["answered_at"]))])
    lines += _section(t("export_votes", count=len(tables.get("pitfall_vote", []))), [
        t("export_line", when=day(row["voted_at"]), what=_pitfall(content, row, lang))
        for row in tables.get("pitfall_vote", [])])
    lines += _section(t("export_pairings", count=len(pairings)),
                      list(_pairing_lines(content, pairings, tables, lang, t, day)))
    for row in tables.get("nudge_opt_out", []):
        lines += [t("export_opted_out", date=day(row["opted_out_at"])), ""]
    lines += _section(t("export_team_work"), list(_team_lines(content, tables, lang, t)))
    lines += list(_rest(tables, t, day))
    return "\n".join(lines).rstrip() + "\n"


def _section(heading: str, body: list[str]) -> list[str]:
    return [heading, *body, ""] if body else []


def _profile(content: Content, data: dict[str, Any], lang: str, t: Callable[..., str],
             day: Callable[[Any], str]) -> list[str]:
    me = data["member"]
    shown = [("export_name", me.get("display_name") or "-"),
             ("export_platform", me.get("platform")),
             ("export_school", data.get("school") or t("export_none")),
             ("export_level", content.level_name(me["level"], lang) if me.get("level")
              else t("export_none")),
             ("export_role", t(f"export_role_{me.get('role', 'member')}")),
             ("export_language", t(f"language_{me.get('language', 'nl')}")),
             ("export_since", day(me["created_at"]))]
    if me.get("paused_until"):
        shown.append(("export_paused", content.day(date.fromisoformat(me["paused_until"]),
                                                   lang)))
    shown.append(("export_email", me.get("email") or t("export_none")))
    if me.get("mail_off_at"):
        shown.append(("export_mail_off", day(me["mail_off_at"])))
    return [t("export_profile"), *(t(key, value=value) for key, value in shown), ""]


def _answer(content: Content, row: Row, lang: str, t: Callable[..., str],
            when: str | None) -> list[str]:
    try:
        statement = content.statement(row["statement_id"]).text.get(lang)
    except KeyError:  # a statement since taken out of content/
        statement = row["statement_id"]
    if row.get("status") == "scored" and row.get("score"):
        labels = content.scale.score_labels()
        answer = f"{row['score']} ({labels[int(row['score']) - 1].get(lang)})"
    elif row.get("status") == "dont_know":
        answer = content.scale.dont_know.get(lang)
    else:
        answer = content.scale.skip.get(lang)
    out = [t("export_answer", when=when or "-", statement=statement, answer=answer)]
    written = row.get("comment") or row.get("note")  # a check-in's comment, a reflection's note
    if written:
        out.append(t("export_comment", text=written))
    return out


def _pitfall(content: Content, row: Row, lang: str) -> str:
    try:
        return content.pitfall(row["pitfall_id"]).name.get(lang)
    except (KeyError, ValueError, StopIteration):
        return str(row["pitfall_id"])


def _pairing_lines(content: Content, pairings: dict[int, tuple[datetime, str]],
                   tables: dict[str, list[Row]], lang: str, t: Callable[..., str],
                   day: Callable[[Any], str]) -> Iterator[str]:
    answers = {row["group_id"]: row["answer"] for row in tables.get("nudge_answer", [])}
    ideas = {idea.id: idea.text.get(lang) for idea in content.ideas}
    for group_id, (planned, idea_id) in sorted(pairings.items(), key=lambda p: p[1][0]):
        said = answers.get(group_id)
        yield t("export_pairing", when=day(planned), idea=ideas.get(idea_id, idea_id),
                answer=t(f"export_nudge_{said}") if said else t("export_nudge_none"))


def _team_lines(content: Content, tables: dict[str, list[Row]], lang: str,
                t: Callable[..., str]) -> Iterator[str]:
    for row in tables.get("matrix_goal", []):
        yield t("export_matrix_goal", text=row["title"] or "-")
    for row in tables.get("matrix_entry", []):
        names = {step.id: step.name.get(lang) for step in content.impact_matrix}
        step = names.get(row["step_id"], row["step_id"])
        yield t("export_matrix_row", step=step, text=row["text"])
    for row in tables.get("talk_plate_outcome", []):
        yield t("export_outcome", text=row["text"])


def _rest(tables: dict[str, list[Row]], t: Callable[..., str],
          day: Callable[[Any], str]) -> Iterator[str]:
    started = sum(len(tables.get(name, [])) for name in STARTED)
    if started:
        yield t("export_started", count=started)
    if tables.get("outbox"):
        yield t("export_outbox", count=len(tables["outbox"]))
    for row in tables.get("conversation", []):
        yield t("export_conversation", date=day(row["updated_at"]))
    other = sorted((name, len(rows)) for name, rows in tables.items()
                   if name not in SHOWN | STARTED)
    if other:
        yield t("export_other", tables=", ".join(f"{name} ({n})" for name, n in other))


async def _round_months(session: AsyncSession, content: Content, answers: list[Row],
                        zone: ZoneInfo, lang: str) -> dict[int, str]:
    """The month each answer belongs to (its round's closing month, "november 2026"), by
    round id: the rounds are the partnership's, not anyone's answers."""
    ids = {row["round_id"] for row in answers}
    if not ids:
        return {}
    found = await session.execute(
        select(CheckInRound.id, CheckInRound.closes_at).where(CheckInRound.id.in_(ids)))
    return {round_id: content.month_name(closes.astimezone(zone).date(), lang)
            for round_id, closes in found.all()}


def _moment(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


async def _pairings(session: AsyncSession,
                    rows: list[Row]) -> dict[int, tuple[datetime, str]]:
    """When each of the member's coffee groups was planned and its idea; no other names."""
    ids = [row["group_id"] for row in rows]
    if not ids:
        return {}
    found = await session.execute(
        select(NudgeGroup.id, NudgeRound.planned_at, NudgeGroup.idea_id)
        .join(NudgeRound, NudgeRound.id == NudgeGroup.round_id)
        .where(NudgeGroup.id.in_(ids)))
    return {group_id: (planned, idea) for group_id, planned, idea in found.all()}
