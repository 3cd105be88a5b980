"""`samenvatting` / `summary` in chat: a project leader asks for the full summary of the
last full month or an earlier one (`samenvatting oktober`, `summary 2026-10`).

It is the same summary the scheduler sends: the month's frozen result
(`bot.summary.frozen`), in the leader's language; in a group the engine makes it private.
Others get the polite refusal.

Only months that are over are summarised: a running month could change between two
requests, and asking before and after one person answers would show their answer. A month
that is over is frozen the first time anyone needs it, so removing or erasing a member, or
changing their level, afterwards changes nothing in it. A month before the partnership's
first round closed has no figures yet: a short answer says so.
"""

from __future__ import annotations

import re
from datetime import date

from bot import registry
from bot.flows.roles import is_leader, leaders_only
from bot.flows.turn import Turn
from bot.messages import Reply
from bot.months import shift_month
from bot.summary.frozen import published_summary
from bot.summary.render import SummaryMessages
from bot.summary.rules import load_summary_rules

NAMES = ("samenvatting", "summary")
FIRST_YEAR = 2000  # before any partnership; also keeps the two months before in range
_MONTH_NAMES = {
    name: number
    for number, names in enumerate((
        ("januari", "january", "jan"), ("februari", "february", "feb"),
        ("maart", "march", "mrt", "mar"), ("april", "apr"), ("mei", "may"),
        ("juni", "june", "jun"), ("juli", "july", "jul"), ("augustus", "august", "aug"),
        ("september", "sept", "sep"), ("oktober", "october", "okt", "oct"),
        ("november", "nov"), ("december", "dec"),
    ), start=1)
    for name in names
}
_THIS = {"deze maand", "this month", "nu", "now"}
_LAST = {"", "vorige", "vorige maand", "last", "last month", "previous", "previous month"}
_ISO = re.compile(r"(\d{4})-(\d{1,2})")


@registry.command(*NAMES, leaders=True, help=True, order=1)  # samenvatting [maand]
async def command(turn: Turn, arg: str) -> list[Reply]:
    if not is_leader(turn.member):
        return leaders_only(turn)
    this_month = turn.local_today().replace(day=1)
    last = latest_month(this_month)
    month = parse_month(arg, this_month)
    if month is None:
        return [turn.say("summary_which_month",
                         example=turn.content.month_name(last, turn.lang))]
    if month > this_month:
        return [turn.say("summary_future_month", month=turn.content.month_name(month, turn.lang))]
    if month > last:
        return [turn.say("summary_running_month", month=turn.content.month_name(month, turn.lang),
                         available=turn.content.day(shift_month(month, 1), turn.lang),
                         last=turn.content.month_name(last, turn.lang))]
    summary = await published_summary(turn.session, turn.content, turn.partnership, month,
                                      now=turn.now)
    if summary is None:
        return [turn.say("summary_no_figures", month=turn.content.month_name(month, turn.lang))]
    rules = load_summary_rules(turn.content)
    return await SummaryMessages(summary, turn.content, rules).replies(turn.lang)


def latest_month(this_month: date) -> date:
    """The latest month that may be summarised: the last one that is over."""
    return shift_month(this_month, -1)


def parse_month(text: str, this_month: date) -> date | None:
    """The month a leader names: nothing or `vorige` (last month, the latest that is over),
    `deze maand` (this month), `2026-10`, or a month name in Dutch or English with or
    without a year (without: the latest one that is not after this month). None when it
    names no month."""
    words = " ".join(text.lower().replace(",", " ").split())
    if words in _THIS:
        return this_month
    if words in _LAST:
        return latest_month(this_month)
    if (month := iso_month(words)) is not None:
        return month
    name, _, year = words.partition(" ")
    if name not in _MONTH_NAMES:
        return None
    if year:
        return iso_month(f"{year}-{_MONTH_NAMES[name]}")
    found = this_month.replace(month=_MONTH_NAMES[name])
    return found if found <= this_month else found.replace(year=found.year - 1)


def iso_month(text: str) -> date | None:
    """`2026-10` as the first of that month; None for anything else or a year before 2000."""
    match = _ISO.fullmatch(text.strip())
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    return date(year, month, 1) if year >= FIRST_YEAR and 1 <= month <= 12 else None
