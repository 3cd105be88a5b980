"""`privacy` in chat: what is kept and why, and buttons to export or erase your own data.

Action values (`avg:<what>`) are short and carry no ids: they always act on the person who
pressed, so nobody can reach another person's data by typing a value by hand. "The person"
is their account on this platform, in every partnership it belongs to: that is certainly
them. The same person on another platform is another member that nothing links to this one
(achtje keeps no cross-platform identity), so it is exported and erased from there, or by
the operator (`achtje find-member`, `achtje erase`).
"""

from __future__ import annotations

from bot import registry
from bot.flows.state import Choosing
from bot.flows.turn import Turn
from bot.messages import Option, Reply, Text
from bot.privacy.data import erase_member, export_json, export_member, split_text
from bot.privacy.readable import readable_export
from bot.store import repo
from bot.store.models import Member
from bot.store.privacy import retention_terms
from bot.summary.frozen import freeze_before_change

PREFIX = "avg"
EXPORT, JSON, ERASE, ERASE_YES, ERASE_NO, MORE = ("export", "json", "erase", "erase_yes",
                                                 "erase_no", "more")
CHUNK = 2800  # below Slack's 3,000-character text limit, with room for the platform


@registry.command("privacy", before_onboarding=True, help=True, menu=True, order=9)
async def command(turn: Turn, _arg: str) -> list[Reply]:
    """Three short lines, with the whole text behind `Meer`."""
    return [await _overview(turn, "privacy_short", more=True)]


async def _overview(turn: Turn, key: str, *, more: bool) -> Reply:
    answer_months, text_months = await retention_terms(turn.session, turn.partnership.id)
    overview = turn.t(key, answer_months=answer_months, text_months=text_months)
    if turn.member.email is not None:
        overview += "\n" + turn.t("privacy_email", address=turn.member.email)
    return await turn.ask(overview, [
        *([Option(turn.t("privacy_more_button"), f"{PREFIX}:{MORE}")] if more else []),
        Option(turn.t("privacy_export_button"), f"{PREFIX}:{EXPORT}"),
        Option(turn.t("privacy_erase_button"), f"{PREFIX}:{ERASE}"),
    ])


@registry.action(PREFIX, onboarding=True)  # avg:more|export|json|erase|erase_yes|erase_no
async def act(turn: Turn, parts: list[str]) -> list[Reply]:
    what = parts[0]
    if what == MORE:
        return [await _overview(turn, "privacy_overview", more=False)]
    if what == EXPORT:
        await repo.clear_conversation(turn.session, turn.member.id)
        return await export_readable(turn)
    if what == JSON:
        await repo.clear_conversation(turn.session, turn.member.id)
        return await export(turn)
    if what == ERASE:
        return [await turn.ask(turn.t("privacy_erase_confirm"), [
            Option(turn.t("privacy_erase_yes"), f"{PREFIX}:{ERASE_YES}"),
            Option(turn.t("privacy_erase_no"), f"{PREFIX}:{ERASE_NO}"),
        ])]
    if what == ERASE_NO:
        await repo.clear_conversation(turn.session, turn.member.id)
        return [turn.say("privacy_erase_cancelled")]
    if what == ERASE_YES:
        # Only right after the question: an old or hand-typed value erases nothing.
        asked = Choosing.of(await repo.conversation(turn.session, turn.member.id))
        if asked is None or not asked.offers(f"{PREFIX}:{ERASE_YES}"):
            return [turn.say("privacy_erase_stale")]
        done = turn.say("privacy_erased")
        for member in await _account(turn):
            # Closed months keep what they published (docs/privacy.md).
            await freeze_before_change(turn.session, turn.content, member.id, turn.now)
            await erase_member(turn.session, member.id)
        return [done]
    raise ValueError(what)


async def export_readable(turn: Turn) -> list[Reply]:
    """What is kept, in words and in the person's language, per partnership the person is
    in on this platform; the JSON behind a button."""
    pieces = []
    for member in await _account(turn):
        data = await export_member(turn.session, member.id)
        assert data is not None  # found a moment ago, in this transaction
        text = await readable_export(turn.session, turn.content, data, turn.lang)
        pieces += split_text(text, CHUNK)
    return [turn.say("privacy_readable_intro", parts=len(pieces)),
            *(Text(text=piece) for piece in pieces),
            await turn.ask(turn.t("privacy_json_prompt"),
                           [Option(turn.t("privacy_json_button"), f"{PREFIX}:{JSON}")])]


async def export(turn: Turn) -> list[Reply]:
    """One JSON document per partnership the person is in on this platform."""
    pieces = []
    for member in await _account(turn):
        data = await export_member(turn.session, member.id)
        assert data is not None  # found a moment ago, in this transaction
        pieces += split_text(export_json(data), CHUNK)
    return [turn.say("privacy_export_intro", parts=len(pieces)),
            *(Text(text=piece) for piece in pieces)]


async def _account(turn: Turn) -> list[Member]:
    """Every membership of the person's account on this platform, this turn's first."""
    found = await repo.identities(turn.session, turn.member.platform, turn.member.user_ref)
    return sorted(found, key=lambda member: member.id != turn.member.id)
