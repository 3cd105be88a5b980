"""Planning a nudge round: who is paired, which idea they get, and what is said to whom.

`plan_nudge_round` stores the round and its groups and returns the messages to send, in
the caller's transaction, so the scheduler can write them to its outbox together with the
next run of its schedule. It never sends anything itself. `compose_round` is the same
decision without storing anything (the CLI preview).
"""

from __future__ import annotations

import logging
import random
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import combinations
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content, Idea
from bot.messages import FIRST, Mention, Reply, Text, mention_mark
from bot.nudges import records
from bot.nudges.ideas import choose_idea, fitting_ideas, suiting_ideas
from bot.nudges.pairing import Candidate, pair_key, pair_members
from bot.nudges.records import Person, Someone
from bot.store.models import ChannelBinding, Member, Partnership
from bot.store.nudges import NudgeGroup, NudgeGroupMember, NudgeRound, NudgeSettings

logger = logging.getLogger(__name__)

# With `mix_levels` on, every third round pairs different levels instead of counterparts.
MIX_EVERY = 3


@dataclass(frozen=True, kw_only=True)
class PlannedMessage:
    """One message a nudge step wants delivered; the scheduler turns it into an outbox row.

    `direct` messages go to a person (`target` is their platform user id, `member_id` who
    they are); others go to a channel (`target` is the channel id). `recipient` is unique
    per message of one kind on one day ("member:12", "channel:slack:C01"), fit for the
    outbox's idempotency key.
    """

    kind: str  # nudge / nudge_followup / nudge_reminder
    partnership_id: int
    recipient: str
    platform: str
    target: str
    direct: bool
    replies: tuple[Reply, ...]
    member_id: int | None = None


@dataclass(frozen=True)
class PlannedGroup:
    members: tuple[Person, ...]
    idea: Idea
    cross_school: bool
    repeat_pairs: int


@dataclass(frozen=True)
class RoundPlan:
    """The next round as it would be planned now; nothing of it is stored."""

    partnership: Partnership
    settings: NudgeSettings
    number: int
    seed: int
    mixed_levels: bool
    groups: tuple[PlannedGroup, ...]
    left_out: tuple[tuple[Person, str], ...]  # who is not paired, and why (for operators)


def round_seed(partnership_id: int, number: int) -> int:
    """The same partnership and round number always pair the same way (preview = plan)."""
    return zlib.crc32(f"{partnership_id}:{number}".encode()) % 2**31


async def compose_round(
    session: AsyncSession, content: Content, partnership: Partnership, now: datetime
) -> RoundPlan:
    """Decide the next round's groups and ideas from the members and the history."""
    settings = await records.settings_for(session, partnership.id, now)
    today = now.astimezone(ZoneInfo(partnership.timezone)).date()
    members = await records.onboarded_members(session, partnership.id)
    out = await records.opted_out(session, (m.id for m in members))
    channel_platforms = {c.platform for c in await records.channels(session, partnership.id)}
    reachable = {m.id for m in members if not m.unreachable or m.platform in channel_platforms}
    reasons = {}
    for m in members:
        if records.is_paused(m, today):
            reasons[m.id] = "paused"
        elif m.id in out:
            reasons[m.id] = "coffee off"
        elif m.id not in reachable:
            reasons[m.id] = "unreachable, no channel on their platform"
    candidates = [
        Candidate(member_id=m.id, school_id=m.school_id or 0, level=m.level or "",
                  paused=reasons.get(m.id) == "paused", opted_out=m.id in reasons)
        for m in members
    ]
    seen = await records.pair_history(session, partnership.id)
    latest = await records.latest_round(session, partnership.id)
    number = (latest.number if latest is not None else 0) + 1
    seed = round_seed(partnership.id, number)
    mixed = settings.mix_levels and number % MIX_EVERY == 0
    pairs = pair_members(candidates, seen, seed, mix_levels=mixed)

    by_id = {m.id: m for m in members}
    ideas = fitting_ideas(content.ideas, settings.same_building, settings.max_minutes)
    recent = await records.recent_ideas(session, partnership.id,
                                        (c.member_id for c in candidates if c.eligible))
    by_levels: dict[frozenset[str | None], list[Idea]] = {}
    rng = random.Random(seed)
    given: Counter[str] = Counter()
    groups = []
    for ids in pairs:
        group_recent = [idea for m in ids for idea in recent.get(m, [])]
        schools = {by_id[m].school_id for m in ids}
        levels = frozenset(by_id[m].level for m in ids)
        if levels not in by_levels:
            by_levels[levels] = suiting_ideas(ideas, levels)
        idea = choose_idea(by_levels[levels], group_recent, rng, given)
        given[idea.id] += 1
        groups.append(PlannedGroup(
            members=tuple(by_id[m] for m in ids),
            idea=idea,
            cross_school=len(schools) > 1,
            repeat_pairs=sum(pair_key(a, b) in seen for a, b in combinations(ids, 2)),
        ))
    placed = {m for ids in pairs for m in ids}
    return RoundPlan(partnership, settings, number, seed, mixed, tuple(groups),
                     tuple((m, reasons.get(m.id, "nobody to pair with"))
                           for m in members if m.id not in placed))


async def plan_nudge_round(
    session: AsyncSession, content: Content, partnership: Partnership, now: datetime
) -> list[PlannedMessage]:
    """Pair the partnership's members, store the round, and say what to send to whom.

    Nothing is planned when the partnership switched nudges off, when fewer than two
    people can be paired, or when a round was already planned today (a second call on
    the same local day is a no-op, so a retried tick cannot pair people twice).
    """
    settings = await records.settings_for(session, partnership.id, now)
    if not settings.enabled:
        logger.info("nudges are off for partnership %s", partnership.id)
        return []
    zone = ZoneInfo(partnership.timezone)
    latest = await records.latest_round(session, partnership.id)
    if latest is not None and latest.planned_at.astimezone(zone).date() == now.astimezone(
            zone).date():
        logger.info("nudge round %s of partnership %s was planned today already",
                    latest.number, partnership.id)
        return []
    plan = await compose_round(session, content, partnership, now)
    if not plan.groups:
        logger.info("too few people to pair in partnership %s", partnership.id)
        return []
    round_ = NudgeRound(partnership_id=partnership.id, number=plan.number, seed=plan.seed,
                        mixed_levels=plan.mixed_levels, planned_at=now)
    session.add(round_)
    await session.flush()
    stored = []
    for group in plan.groups:
        row = NudgeGroup(round_id=round_.id, idea_id=group.idea.id,
                         cross_school=group.cross_school, repeat_pairs=group.repeat_pairs)
        session.add(row)
        stored.append(row)
    await session.flush()
    session.add_all(NudgeGroupMember(group_id=row.id, member_id=m.id)
                    for row, group in zip(stored, plan.groups, strict=True)
                    for m in group.members)
    logger.info("nudge round %s of partnership %s: %s groups", plan.number, partnership.id,
                len(plan.groups))
    return await _messages(session, content, plan)


async def _messages(session: AsyncSession, content: Content, plan: RoundPlan) -> list[
        PlannedMessage]:
    """A private message per person, and one message per bound channel: the note that the
    pairs are out, with the invitations of people we cannot reach privately in its thread."""
    partnership = plan.partnership
    bindings = await records.channels(session, partnership.id)
    messages = []
    in_thread: dict[int, list[Reply]] = {}
    for group in plan.groups:
        for member in group.members:
            others = [m for m in group.members if m.id != member.id]
            channel = _channel_of(member, bindings) if member.unreachable else None
            if channel is None:
                messages.append(_invitation(content, partnership, member, others, group.idea))
            else:
                in_thread.setdefault(channel.id, []).append(replace(
                    _invitation_text(content, partnership, member, others, group.idea,
                                     channel.platform), thread_of=FIRST))
    for binding in bindings:
        note = channel_text(content, plan.groups, partnership, plan.settings.names_in_channel,
                            binding.platform)
        messages.append(PlannedMessage(
            kind="nudge", partnership_id=partnership.id,
            recipient=f"channel:{binding.platform}:{binding.channel_ref}",
            platform=binding.platform, target=binding.channel_ref, direct=False,
            replies=(note, *in_thread.get(binding.id, ()))))
    return messages


def _channel_of(member: Someone, bindings: Sequence[ChannelBinding]) -> ChannelBinding | None:
    """The channel where someone we cannot reach privately is invited: their platform's."""
    return next((b for b in bindings if b.platform == member.platform), None)


def _invitation(content: Content, partnership: Partnership, member: Person,
                others: Sequence[Someone], idea: Idea) -> PlannedMessage:
    """The private message naming the partner(s) and the idea."""
    lang = member.language
    names = Names(content, lang, member.platform)
    text = content.text("nudge_invite", lang, partners=partner_names(
        content, partnership, others, lang, names), idea=idea.text.get(lang),
        minutes=idea.minutes)
    return PlannedMessage(kind="nudge", partnership_id=partnership.id,
                          recipient=f"member:{member.id}", platform=member.platform,
                          target=member.user_ref, direct=True, replies=(names.text(text),),
                          member_id=member.id)


def _invitation_text(content: Content, partnership: Partnership, member: Someone,
                     others: Sequence[Someone], idea: Idea, platform: str) -> Text:
    """The invitation said in a channel, to someone we cannot reach privately."""
    lang = member.language
    names = Names(content, lang, platform)
    text = content.text("nudge_invite_in_channel", lang, name=names.of(member),
                        partners=partner_names(content, partnership, others, lang, names),
                        idea=idea.text.get(lang))
    return names.text(text, public=True)


async def invitation_in_channel(
    session: AsyncSession, content: Content, member_id: int, now: datetime
) -> PlannedMessage | None:
    """The invitation of the member's latest round, for their platform's channel: for when
    their private message turns out undeliverable only at send time. None when there is no
    such channel or round."""
    member = await session.get(Member, member_id)
    group = await records.latest_group(session, member_id)
    if member is None or group is None:
        return None
    partnership = await session.get(Partnership, member.partnership_id)
    channel = _channel_of(member, await records.channels(session, member.partnership_id))
    idea = next((i for i in content.ideas if i.id == group.idea_id), None)
    if partnership is None or channel is None or idea is None:
        logger.info("member %s cannot be reached and has no channel to be invited in",
                    member_id)
        return None
    members = (await records.group_members(session, [group.id]))[group.id]
    others = [m for m in members if m.id != member.id]
    text = _invitation_text(content, partnership, member, others, idea, channel.platform)
    return PlannedMessage(
        kind="nudge", partnership_id=partnership.id,
        recipient=f"channel:{channel.platform}:{channel.channel_ref}:member:{member.id}",
        platform=channel.platform, target=channel.channel_ref, direct=False,
        replies=(text,), member_id=member.id)


class Names:
    """The names in one message: a platform mention for someone on the platform the message
    goes out on, the plain name for anyone else (a mention cannot cross platforms)."""

    def __init__(self, content: Content, lang: str, platform: str | None) -> None:
        self.content, self.lang, self.platform = content, lang, platform
        self.mentions: list[Mention] = []

    def of(self, member: Someone) -> str:
        name = display_name(self.content, member, self.lang)
        if member.platform != self.platform:
            return name
        self.mentions.append(Mention(member.user_ref, name))
        return mention_mark(len(self.mentions) - 1)

    def text(self, text: str, public: bool = False) -> Text:
        return Text(text=text, mentions=tuple(self.mentions), public=public)


def display_name(content: Content, member: Someone, lang: str) -> str:
    return member.display_name or content.text("nudge_someone", lang)


def join_names(content: Content, names: Sequence[str], lang: str) -> str:
    """"Anna", "Anna en Bram", "Anna, Bram en Cas"."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {content.text('nudge_and', lang)} {names[-1]}"


def partner_names(content: Content, partnership: Partnership, others: Sequence[Someone],
                  lang: str, names: Names | None = None) -> str:
    """"Bram (Mbo College Kompas)", with a mention for each partner `names` can mention."""
    names = names or Names(content, lang, None)
    schools = {s.id: s.name for s in partnership.schools}
    return join_names(content, [
        content.text("nudge_partner", lang, name=names.of(m),
                     school=schools.get(m.school_id or 0, "?"))
        for m in others
    ], lang)


def channel_text(content: Content, groups: Sequence[PlannedGroup], partnership: Partnership,
                 with_names: bool, platform: str) -> Text:
    """The one short channel message; names (mentions) only when the partnership wants them."""
    lang = partnership.language
    names = Names(content, lang, platform)
    if not with_names:
        return names.text(content.text("nudge_channel", lang, groups=len(groups)), public=True)
    lines = "\n".join("- " + join_names(content, [names.of(m) for m in g.members], lang)
                      for g in groups)
    return names.text(content.text("nudge_channel_names", lang, lines=lines), public=True)


def describe_round(plan: RoundPlan) -> list[str]:
    """The plan for an operator (the CLI preview): groups, ideas, who is left out and why."""
    settings = plan.settings
    schools = {s.id: s.name for s in plan.partnership.schools}

    def who(member: Person) -> str:
        return (f"{member.display_name or member.user_ref} "
                f"({schools.get(member.school_id or 0, '?')}, {member.level or '?'})")

    lines = [
        f"partnership {plan.partnership.id} {plan.partnership.name}: next round "
        f"{plan.number} (seed {plan.seed}), {len(plan.groups)} groups, levels "
        f"{'mixed' if plan.mixed_levels else 'counterparts'}"
        + ("" if settings.enabled else "; nudges are OFF for this partnership"),
    ]
    for group in plan.groups:
        notes = [] if group.cross_school else ["one school"]
        if group.repeat_pairs:
            notes.append(f"{group.repeat_pairs} pair(s) met before")
        lines.append(f"  {' + '.join(who(m) for m in group.members)}  idea "
                     f"{group.idea.id} ({group.idea.minutes} min)"
                     + (f"  [{', '.join(notes)}]" if notes else ""))
    lines.extend(f"  not paired: {who(member)}: {reason}" for member, reason in plan.left_out)
    return lines
