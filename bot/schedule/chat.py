"""`rooster` / `schedule`: a project leader looks at the partnership's schedule in chat and
changes it with buttons and short typed answers (a number, a label, a time like 15:30).

A change goes through `bot.schedule.rules.configure`, exactly as `achtje schedule set` does, so
the next sends (`next_run_at`) move the same way; the leader then sees the new times from
the same preview the command line prints. Members get the polite refusal.

Button values name the partnership: `sch:<partnership>:ask:<setting>` asks one setting,
`sch:<partnership>:set:<setting>:<value>` changes it, `sch:<partnership>:start` starts the
default schedule, `sch:<partnership>:menu` shows the schedule again and
`sch:<partnership>:done` ends; an open question for a time keeps the partnership too. A
private chat is about the person's first membership, so a leader of two partnerships who
said `rooster` in the second one's group answers there for the second one. Only the values
the buttons offer are accepted, so `configure` never has to refuse a change made here.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from bot import registry
from bot.flows.roles import is_leader, leaders_only
from bot.flows.turn import Turn, match_option
from bot.messages import FreeText, Option, Reply, Text
from bot.schedule.calendar import parse_hhmm
from bot.schedule.holidays import HolidayCalendar, loaded_holidays
from bot.schedule.preview import PreviewLine, PreviewWords, preview
from bot.schedule.rules import (
    HOLIDAY_POLICIES,
    REGULAR_KINDS,
    Changes,
    PartnershipPlan,
    ScheduleError,
    configure,
    default_schedules,
    load_plan,
)
from bot.store import repo
from bot.store.models import Member, Partnership

logger = logging.getLogger(__name__)

FLOW = "schedule"  # waiting for a typed time; data: {"setting": ..., "partnership": id}
PREVIEW_WEEKS = 4
CADENCES = ("1", "2", "3", "4")
REMINDER_HOURS = ("0", "4", "24", "48")
# What a button may set, and the values it may set it to.
CHOICES: dict[str, tuple[str, ...]] = {
    "checkin_weekday": ("0", "1", "2", "3", "4"),
    "cadence_weeks": CADENCES,
    "reminder_hours": REMINDER_HOURS,
    "holiday_policy": HOLIDAY_POLICIES,
    "nudge_cadence_weeks": CADENCES,
    "nudges": ("on", "off"),
}
TIMES = ("checkin_time", "summary_time")
MENU = ("checkin_weekday", "checkin_time", "cadence_weeks", "reminder_hours",
        "holiday_policy", "nudges", "summary_time")


def _holidays(turn: Turn) -> HolidayCalendar:
    """The holidays next to the turn's content, as the planner reads them."""
    return loaded_holidays(turn.content.folder)


@registry.command("rooster", "schedule", leaders=True, help=True, order=2)
async def command(turn: Turn, _arg: str) -> list[Reply]:
    """The schedule, what goes out in the next weeks, and what to change."""
    if not is_leader(turn.member):
        return leaders_only(turn)
    return await _show(turn)


@registry.action("sch")  # sch:<partnership>:ask|set|start|menu|done (leaders)
async def act(turn: Turn, parts: list[str]) -> list[Reply]:
    """The engine's handler for `sch:` buttons; malformed values raise ValueError."""
    about = await _about(turn, int(parts[0]))
    if not isinstance(about, Turn):
        return about
    turn = about
    match parts[1:]:
        case ["menu"]:
            return await _show(turn)
        case ["done"]:
            await repo.clear_conversation(turn.session, turn.member.id)
            return [turn.say("sched_chat_done")]
        case ["start"]:
            return await _change(turn, Changes())
        case ["ask", setting] if setting in MENU:
            return [await _ask(turn, setting)]
        case ["set", setting, value] if value in CHOICES[setting]:
            if setting == "holiday_policy":
                return await _change(turn, Changes(holiday_policy=value))
            if setting == "nudges":
                return await _change(turn, Changes(nudges=value == "on"))
            return await _change(turn, _changes(setting, int(value)))
    raise ValueError(":".join(parts))


@registry.text_flow(FLOW, stopped="menu_stopped")
async def typed(turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
    """A typed time for the setting asked (`15:30`, or `15.30`); `stop` leaves it."""
    about = await _about(turn, data.get("partnership"))
    if not isinstance(about, Turn):
        await repo.clear_conversation(turn.session, turn.member.id)
        return about
    turn = about
    if match_option(text, [[turn.t("sched_chat_option_back"), _value(turn, "menu")]]):
        return await _show(turn)
    setting = data["setting"]
    plan = await load_plan(turn.session, _holidays(turn), turn.partnership, turn.now)
    hours = {"start": plan.settings.day_start, "end": plan.settings.day_end}
    try:
        at = parse_hhmm(text.replace(".", ":"))
    except ValueError:
        return [_time_prompt(turn, turn.t("sched_chat_bad_time", **hours))]
    if not plan.calendar.in_hours(at):
        return [_time_prompt(turn, turn.t("sched_chat_outside_hours",
                                          time=at.strftime("%H:%M"), **hours))]
    return await _change(turn, _changes(setting, at.strftime("%H:%M")))


async def _about(turn: Turn, partnership_id: object) -> Turn | list[Reply]:
    """The turn about the partnership a button or an open question names, if the person
    leads it; else the reply. The member stays the one who speaks (their language, their
    open question); only their membership in that partnership decides if they may lead."""
    if partnership_id == turn.partnership.id:
        membership: Member | None = turn.member
    else:
        membership = next((m for m in await repo.identities(
            turn.session, turn.incoming.platform, turn.incoming.user)
            if m.partnership_id == partnership_id), None)
    if membership is None:
        return [turn.say("stale_button")]
    if not is_leader(membership):
        return leaders_only(turn)
    if membership is turn.member:
        return turn
    partnership = await turn.session.get(Partnership, membership.partnership_id)
    assert partnership is not None
    return replace(turn, partnership=partnership)


def _value(turn: Turn, *parts: str) -> str:
    """A button value about the turn's partnership."""
    return ":".join(("sch", str(turn.partnership.id), *parts))


def _changes(setting: str, value: int | str) -> Changes:
    changes = Changes()
    setattr(changes, setting, value)
    return changes


async def _change(turn: Turn, changes: Changes) -> list[Reply]:
    try:
        await configure(turn.session, _holidays(turn), turn.partnership, changes, turn.now)
    except ScheduleError as exc:
        # The buttons only offer what `configure` accepts, so this is a bug. Not a
        # ValueError for the engine: the turn must fail and roll back, not save half.
        raise RuntimeError(f"the schedule refused a change from chat: {exc}") from exc
    logger.info("member %s changed the schedule of partnership %s: %s", turn.member.id,
                turn.partnership.id, changes)
    return await _show(turn, saved=True)


async def _show(turn: Turn, saved: bool = False) -> list[Reply]:
    plan, lines = await preview(turn.session, _holidays(turn), turn.partnership,
                                turn.local_today(), PREVIEW_WEEKS, turn.now,
                                later_than=turn.now)
    started = "checkin" in plan.schedules
    replies: list[Reply] = [turn.say("sched_chat_saved")] if saved else []
    replies.append(Text(text=_overview(turn, plan, started)))
    if started:
        replies.append(Text(text=_coming(turn, plan, lines)))
    options = [Option(turn.t(f"sched_chat_opt_{setting}"), _value(turn, "ask", setting))
               for setting in MENU]
    if not started:
        options.insert(0, Option(turn.t("sched_chat_opt_start"), _value(turn, "start")))
    options.append(Option(turn.t("sched_chat_opt_done"), _value(turn, "done")))
    replies.append(await turn.ask(turn.t("sched_chat_menu"), options))
    return replies


def _overview(turn: Turn, plan: PartnershipPlan, started: bool) -> str:
    defaults = default_schedules(turn.partnership.id, turn.local_today(), turn.now)
    schedules = {**defaults, **plan.schedules}
    checkin, nudge, summary = (schedules[kind] for kind in REGULAR_KINDS)
    settings = plan.settings

    def cadence(weeks: int | None) -> str:
        if weeks == 1:
            return turn.t("sched_chat_every_week")
        return turn.t("sched_chat_every_weeks", weeks=weeks)

    def weekday(day: int | None) -> str:
        return turn.t(f"sched_weekday_{day}")

    lines = [turn.t("sched_chat_title", partnership=turn.partnership.name)]
    if not started:
        lines.append(turn.t("sched_chat_not_started"))
    if checkin.enabled:
        lines.append(turn.t("sched_chat_checkin", cadence=cadence(checkin.cadence_weeks),
                            weekday=weekday(checkin.weekday), time=checkin.local_time))
        lines.append(turn.t("sched_chat_reminder", hours=checkin.reminder_hours)
                     if checkin.reminder_hours else turn.t("sched_chat_no_reminder"))
        lines.append(turn.t(f"sched_chat_holiday_{settings.holiday_policy}"))
    else:
        lines.append(turn.t("sched_chat_checkins_off"))
    if nudge.enabled and plan.nudges:
        lines.append(turn.t("sched_chat_nudge", cadence=cadence(nudge.cadence_weeks),
                            weekday=weekday(nudge.weekday), time=nudge.local_time))
    else:
        lines.append(turn.t("sched_chat_nudges_off"))
    lines.append(turn.t("sched_chat_summary", time=summary.local_time) if summary.enabled
                 else turn.t("sched_chat_summaries_off"))
    lines.append(turn.t("sched_chat_hours", start=settings.day_start, end=settings.day_end,
                        region=turn.partnership.region))
    return "\n".join(lines)


def _coming(turn: Turn, plan: PartnershipPlan, lines: list[PreviewLine]) -> str:
    """What goes out from now on, in the words of the preview."""
    if not lines:
        return turn.t("sched_chat_next_none", weeks=PREVIEW_WEEKS)
    words = PreviewWords(turn.content, plan, turn.lang)
    out = [turn.t("sched_chat_next", weeks=PREVIEW_WEEKS)]
    for line in lines:
        when, kind, status, _to, reason = words.columns(line)
        out.append(turn.t("sched_chat_next_line_why", when=when, kind=kind, status=status,
                          reason=reason) if reason else
                   turn.t("sched_chat_next_line", when=when, kind=kind, status=status))
    return "\n".join(out)


async def _ask(turn: Turn, setting: str) -> Reply:
    plan = await load_plan(turn.session, _holidays(turn), turn.partnership, turn.now)
    back = Option(turn.t("sched_chat_option_back"), _value(turn, "menu"))
    if setting in TIMES:
        await repo.set_conversation(turn.session, turn.member.id, FLOW,
                                    {"setting": setting, "partnership": turn.partnership.id},
                                    turn.now)
        return FreeText(prompt=turn.t(f"sched_chat_ask_{setting}",
                                      start=plan.settings.day_start,
                                      end=plan.settings.day_end), skip=back)
    options = [Option(label, _value(turn, "set", target, value))
               for target, value, label in _answers(turn, setting, plan.nudges)]
    return await turn.ask(turn.t(f"sched_chat_ask_{setting}"), [*options, back])


def _answers(turn: Turn, setting: str, nudges_on: bool) -> list[tuple[str, str, str]]:
    """(setting, value, label) of each answer to one question."""
    def every(weeks: str) -> str:
        if weeks == "1":
            return turn.t("sched_chat_option_every_week")
        return turn.t("sched_chat_option_every_weeks", weeks=weeks)

    if setting == "checkin_weekday":
        return [(setting, day, turn.t(f"sched_weekday_{day}")) for day in CHOICES[setting]]
    if setting == "cadence_weeks":
        return [(setting, weeks, every(weeks)) for weeks in CADENCES]
    if setting == "reminder_hours":
        return [(setting, hours, turn.t("sched_chat_option_reminder_after", hours=hours)
                 if hours != "0" else turn.t("sched_chat_option_no_reminder"))
                for hours in REMINDER_HOURS]
    if setting == "holiday_policy":
        return [(setting, policy, turn.t(f"sched_chat_option_{policy}"))
                for policy in HOLIDAY_POLICIES]
    switch = "off" if nudges_on else "on"
    return [*(("nudge_cadence_weeks", weeks, every(weeks)) for weeks in CADENCES),
            ("nudges", switch, turn.t(f"sched_chat_option_nudges_{switch}"))]


def _time_prompt(turn: Turn, prompt: str) -> FreeText:
    return FreeText(prompt=prompt,
                    skip=Option(turn.t("sched_chat_option_back"), _value(turn, "menu")))
