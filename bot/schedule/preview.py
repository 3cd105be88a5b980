"""What goes out when: every send in a period in local time, with the reason for each one
that is moved or skipped, in the partnership's language.

Project leaders ask for exactly this, on the command line (`achtje schedule preview`) and
in chat after they change the schedule (`rooster`). It uses the same calendar code as the
planner, so it shows what will really happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.rounds import ROUND_DURATION
from bot.schedule.calendar import Closure, slots_from
from bot.schedule.holidays import HolidayCalendar
from bot.schedule.rules import REGULAR_KINDS, PartnershipPlan
from bot.schedule.rules import load_plan as load_partnership_plan
from bot.store import repo
from bot.store.models import CheckInRound, Member, Partnership


@dataclass(frozen=True)
class PreviewLine:
    """One send in the preview: when it was due, what happens, to how many, and why."""

    planned: datetime  # local
    kind: str
    status: str  # send / moved / skipped
    send_at: datetime | None  # local
    reasons: tuple[Closure, ...]
    recipients: int | None = None
    paused: int = 0


async def preview(
    session: AsyncSession, holidays: HolidayCalendar, partnership: Partnership,
    first: date, weeks: int, now: datetime, *, later_than: datetime | None = None,
) -> tuple[PartnershipPlan, list[PreviewLine]]:
    """Every regular send from `first` for `weeks` weeks, with reminders after check-ins
    (also the open round's, whose check-in went out before); with `later_than`, only what
    is still to come after that instant."""
    plan = await load_partnership_plan(session, holidays, partnership, now)
    calendar, last = plan.calendar, first + timedelta(weeks=weeks) - timedelta(days=1)
    lines: list[PreviewLine] = []
    running = await _running_reminder(session, plan, first, last, later_than)
    if running is not None:
        lines.append(running)
    for kind in REGULAR_KINDS:
        rule = plan.rule(kind)
        if rule is None:
            continue
        switched_off = kind == "nudge" and not plan.nudges
        for slot in slots_from(rule, calendar, plan.policy(kind), first):
            if slot.nominal > last:
                break
            if later_than is not None and (slot.send_at or slot.planned) <= later_than:
                continue
            reasons = slot.reasons
            if not holidays.covers(slot.nominal):
                reasons += (Closure("no_data"),)
            status = "skipped" if slot.send_at is None else "moved" if slot.moved else "send"
            send_at = calendar.local(slot.send_at) if slot.send_at else None
            if switched_off:
                status, send_at, reasons = "skipped", None, (Closure("nudges_off"),)
            count, paused = await _recipients(session, partnership.id, kind,
                                              (send_at or calendar.local(slot.planned)).date())
            lines.append(PreviewLine(calendar.local(slot.planned), kind, status, send_at,
                                     reasons, count, paused))
            if kind == "checkin" and slot.send_at is not None and _reminds(plan):
                lines.append(_reminder_line(plan, slot.send_at))
    return plan, sorted(lines, key=lambda line: (line.planned, line.kind))


async def _running_reminder(
    session: AsyncSession, plan: PartnershipPlan, first: date, last: date,
    later_than: datetime | None,
) -> PreviewLine | None:
    """The reminder the planner scheduled for a round whose check-in is not in the preview
    (it went out before `first` or `later_than`), when it goes out in the period."""
    row = plan.schedules.get("reminder")
    if row is None or row.next_run_at is None or row.round_id is None:
        return None
    round_ = await session.get(CheckInRound, row.round_id)
    send_at = plan.calendar.local(row.next_run_at)
    if (round_ is None or not first <= send_at.date() <= last
            or (later_than is not None and row.next_run_at <= later_than)):
        return None
    opened = plan.calendar.local(round_.opens_at)
    if opened.date() >= first and (later_than is None or round_.opens_at > later_than):
        return None  # its check-in is in the preview, with its reminder
    return PreviewLine(send_at, "reminder", "send", send_at, ())


def _reminds(plan: PartnershipPlan) -> bool:
    """Whether check-ins get a reminder (0 hours: none)."""
    return bool(plan.schedules["checkin"].reminder_hours)


def _reminder_line(plan: PartnershipPlan, opened: datetime) -> PreviewLine:
    calendar = plan.calendar
    hours = plan.schedules["checkin"].reminder_hours or 0
    planned = opened + timedelta(hours=hours)
    send_at, reasons = calendar.next_open(planned)
    if send_at is None or send_at >= opened + ROUND_DURATION:
        return PreviewLine(calendar.local(planned), "reminder", "skipped", None,
                           (*reasons, Closure("round_closed")))
    status = "send" if send_at == planned else "moved"
    return PreviewLine(calendar.local(planned), "reminder", status, calendar.local(send_at),
                       reasons)


async def _recipients(
    session: AsyncSession, partnership_id: int, kind: str, day: date
) -> tuple[int | None, int]:
    if kind not in ("checkin", "summary"):
        return None, 0
    role = "leader" if kind == "summary" else None
    count = len(await repo.eligible_members(session, partnership_id, day, role))
    query = select(func.count()).select_from(Member).where(
        Member.partnership_id == partnership_id, Member.onboarded_at.is_not(None),
        Member.unreachable_at.is_(None), Member.paused_until > day)
    if role:
        query = query.where(Member.role == role)
    return count, int(await session.scalar(query) or 0)


class PreviewWords:
    """The words of a preview in one language: the title and each line's columns."""

    def __init__(self, content: Content, plan: PartnershipPlan, lang: str) -> None:
        self.content, self.plan, self.lang = content, plan, lang

    def t(self, key: str, **values: object) -> str:
        return self.content.text(key, self.lang, **values)

    def reason(self, closure: Closure) -> str:
        settings = self.plan.settings
        if closure.code == "holiday":
            holiday = self.plan.calendar.holidays.names[closure.detail].get(self.lang)
            return self.t("sched_reason_holiday", region=self.plan.partnership.region,
                          holiday=holiday)
        if closure.code == "public_holiday":
            name = self.plan.calendar.holidays.public_name(closure.detail, self.lang)
            return self.t("sched_reason_public_holiday", holiday=name)
        if closure.code == "closed_day":
            return self.t("sched_reason_closed_day", note=closure.detail or "-")
        if closure.code == "quiet_hours":
            return self.t("sched_reason_quiet_hours", start=settings.day_start,
                          end=settings.day_end)
        return self.t(f"sched_reason_{closure.code}")

    def title(self, first: date, weeks: int) -> str:
        settings, partnership = self.plan.settings, self.plan.partnership
        last = first + timedelta(weeks=weeks) - timedelta(days=1)
        return self.t("sched_preview_title", partnership=partnership.name,
                      first=self.content.day(first, self.lang),
                      last=self.content.day(last, self.lang),
                      region=partnership.region, zone=self.plan.calendar.zone.key,
                      start=settings.day_start, end=settings.day_end,
                      policy=self.t(f"sched_policy_{settings.holiday_policy}"))

    def columns(self, line: PreviewLine) -> tuple[str, str, str, str, str]:
        """When, what, what happens, to whom, and why."""
        def moment(when: datetime) -> str:  # "di 8 december 2026 15:30"
            return self.content.moment(when, self.lang, weekday="short")

        if line.status == "moved" and line.send_at is not None:
            status = self.t("sched_status_moved", when=moment(line.send_at))
        else:
            status = self.t(f"sched_status_{line.status}")
        if line.status == "skipped":
            to = "-"
        elif line.recipients is None:
            to = self.t("sched_recipients_unanswered") if line.kind == "reminder" else "-"
        elif line.paused:
            to = self.t("sched_recipients_paused", count=line.recipients, paused=line.paused)
        else:
            to = self.t("sched_recipients", count=line.recipients)
        return (moment(line.planned), self.t(f"sched_kind_{line.kind}"), status, to,
                "; ".join(self.reason(r) for r in line.reasons))


def render_preview(
    content: Content, plan: PartnershipPlan, lines: list[PreviewLine], first: date,
    weeks: int, lang: str,
) -> str:
    """The preview as a table for a terminal."""
    words = PreviewWords(content, plan, lang)
    out = [words.title(first, weeks), ""]
    if not lines:
        return "\n".join([*out, words.t("sched_preview_empty")])
    table = [("when", "kind", "status", "to", "reason"), *map(words.columns, lines)]
    widths = [max(len(row[n]) for row in table) for n in range(4)]
    for row in table:
        out.append("  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)),
                              row[4]]).rstrip())
    return "\n".join(out)
