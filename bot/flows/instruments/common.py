"""What the instruments share: who may lead, posts for the whole chat, the thresholds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TypeVar

from bot.flows.roles import is_leader
from bot.flows.turn import Turn
from bot.messages import Option, Reply, Text
from bot.store import repo
from bot.store.models import Member
from bot.summary.model import MIN_GROUP_SIZE

# Numbers are shown for groups of at least this many people, open texts from five.
MIN_GROUP = MIN_GROUP_SIZE
MIN_OPEN_TEXTS = 5

R = TypeVar("R", bound=Reply)


def may_lead(member: Member) -> bool:
    """Project leaders (and operators) start and close sessions and edit the plan."""
    return is_leader(member)


def public(reply: R) -> R:
    """The same reply, meant for everyone in the chat (kept public in a group)."""
    return replace(reply, public=True)


def first_word(arg: str) -> str:
    return arg.split(maxsplit=1)[0] if arg.strip() else ""


def scale_options(turn: Turn, prefix: str, labels: Sequence[str] = ()) -> list[Option]:
    """1-5 (agree-disagree unless other `labels` are given), "don't know" and "skip", as
    `prefix:<value>`: the seven options every adapter knows how to lay out as a scale."""
    scale = turn.content.scale
    shown = labels or [label.get(turn.lang) for label in scale.score_labels()]
    options = [Option(label, f"{prefix}:{score}") for score, label in enumerate(shown, start=1)]
    options.append(Option(scale.dont_know.get(turn.lang), f"{prefix}:dk"))
    options.append(Option(scale.skip.get(turn.lang), f"{prefix}:skip"))
    return options


def bar(mean: float) -> str:
    filled = round(mean)
    return "█" * filled + "░" * (5 - filled)


def lines(*parts: str | None) -> Text:
    return Text(text="\n".join(p for p in parts if p))


def bullet_list(items: Sequence[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


async def menu(turn: Turn, _arg: str) -> list[Reply]:
    """The five instruments to pick from, each a button that runs its command."""
    options = [Option(turn.t(f"instr_menu_{key}"), f"cmd:{command}") for key, command in (
        ("reflection", "reflectie"), ("poll", "valkuilen peiling"), ("eight", "achtje"),
        ("matrix", "matrix"), ("talk", "praatplaat"))]
    return [await turn.ask(turn.t("instr_menu"), options)]


async def forget(turn: Turn) -> None:
    """End the member's open question."""
    await repo.clear_conversation(turn.session, turn.member.id)
