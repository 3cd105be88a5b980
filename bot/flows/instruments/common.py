"""What the instruments share: who may lead, posts for the whole chat, the thresholds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import TypeVar

from bot import registry
from bot.flows.roles import is_leader
from bot.flows.turn import Turn
from bot.messages import Option, Reply, Text
from bot.outbox import Envelope, enqueue, take_back
from bot.store import instruments as store
from bot.store import repo
from bot.store.models import Member
from bot.summary.model import MIN_GROUP_SIZE

# Open texts are shown from five people (or the partnership's threshold, if higher).
MIN_OPEN_TEXTS = 5
# Outbox kind of what an instrument posts in the team's chat by itself.
OUTBOX_KIND = "instrument"
# A post about a meeting that could not go out within a working day is left unsent.
POST_WITHIN = timedelta(hours=8)

R = TypeVar("R", bound=Reply)


def group_minimum(turn: Turn) -> int:
    """Numbers are shown for groups of at least this many people: the partnership's
    threshold, as in its monthly summaries (never below the lowest allowed)."""
    return max(MIN_GROUP_SIZE, turn.partnership.min_group_size)


def may_lead(member: Member) -> bool:
    """Project leaders (and operators) start and close sessions and edit the plan."""
    return is_leader(member)


def public(reply: R) -> R:
    """The same reply, meant for everyone in the chat (kept public in a group)."""
    return replace(reply, public=True)


async def team_language(turn: Turn, starter: int | None) -> str:
    """The language of what an instrument posts for the whole chat: that of the member who
    started it (its invitation was in their language), else the partnership's."""
    member = await turn.session.get(Member, starter) if starter is not None else None
    return member.language if member is not None else turn.partnership.language


async def post_to_team(turn: Turn, chat_ref: str, key: str, on: date,
                       replies: Sequence[Reply]) -> bool:
    """Queue `replies` for the partnership's bound chat `chat_ref`, for the sender to post.

    What happens in one person's private turn (the third answer of a session, an outcome
    typed in a private chat) reaches the team's chat this way. `key` and `on` identify the
    post: a second call with the same ones adds nothing. Returns whether this call queued
    it; False when it was queued before or `chat_ref` is not a bound group.
    """
    binding = await store.team_chat(turn.session, turn.partnership.id, chat_ref)
    if binding is None:
        return False
    envelope = Envelope(
        kind=OUTBOX_KIND, partnership_id=turn.partnership.id, recipient=key, local_date=on,
        platform=binding.platform, target=binding.channel_ref, direct=False,
        replies=tuple(replies), due_at=turn.now, expires_at=turn.now + POST_WITHIN,
    )
    return await enqueue(turn.session, [envelope], turn.now) == 1


async def is_team_chat(turn: Turn, chat_ref: str) -> bool:
    """Whether `chat_ref` is one of the partnership's bound channels or groups: only there
    does an instrument post by itself (see `post_to_team`)."""
    return await store.team_chat(turn.session, turn.partnership.id, chat_ref) is not None


async def never_seen(turn: Turn, key: str) -> bool:
    """Whether the post queued under `key` did not reach the team's chat. One still waiting
    is taken back, so it cannot arrive after what replaces it; a failed or expired one never
    arrived. One being sent, sent, or perhaps sent counts as seen."""
    return await take_back(turn.session, OUTBOX_KIND, turn.partnership.id, key)


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


@registry.command("instrumenten", "instruments", help=True, menu=True, order=5, chats="both")
async def menu(turn: Turn, _arg: str) -> list[Reply]:
    """The five instruments to pick from, each a button that runs its command."""
    options = [Option(turn.t(f"instr_menu_{key}"), f"cmd:{command}") for key, command in (
        ("reflection", "reflectie"), ("poll", "valkuilen peiling"), ("eight", "achtje"),
        ("matrix", "matrix"), ("talk", "praatplaat"))]
    return [await turn.ask(turn.t("instr_menu"), options)]


async def forget(turn: Turn) -> None:
    """End the member's open question."""
    await repo.clear_conversation(turn.session, turn.member.id)
