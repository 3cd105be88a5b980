"""`setup` in an unbound group or channel: a short wizard that creates a partnership.

It asks the name, the sector, the schools and their type, the holiday region and the
language; then it creates the partnership, binds this chat to it and makes the person who
ran it its first project leader. Like `koppel`, it runs before the engine looks up the
member (the person belongs to no partnership yet); its state lives in `setup_draft`, one
per person per chat. Its messages are for the group (public): that is where the answers
are typed. Schedules keep their defaults; an operator changes them with `achtje schedule`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import registry
from bot.content import Content
from bot.domain import LANGS, REGIONS, SCHOOL_TYPES
from bot.flows.binding import START_ACTION
from bot.flows.turn import Said, Turn, clean_text, match_option, typed_number
from bot.messages import Choice, FreeText, Incoming, Invitation, Option, Reply, Text
from bot.store import binding, repo
from bot.store import setup as store
from bot.store.models import Partnership
from bot.store.setup import SetupDraft
from bot.tenants import SetupPolicy

logger = logging.getLogger(__name__)

NAMES = ("setup", "opzetten")
PREFIX = "setup"
# Not "klaar": while schools are added it may mean "no more schools".
CANCEL_WORDS = {"stop", "stoppen", "annuleer", "annuleren", "cancel", "afbreken"}
MIN_SCHOOLS, MAX_SCHOOLS = 2, 12


@registry.command(*NAMES, menu=True, order=11, chats="group")
async def command(turn: Turn, _arg: str) -> list[Reply]:
    """`setup` from a member: their chat already belongs to a partnership (or is private)."""
    if turn.incoming.direct:
        return [turn.say("setup_in_group")]
    return [turn.say("setup_already_bound", partnership=turn.partnership.name)]


async def claims(session: AsyncSession, incoming: Incoming, said: Said) -> bool:
    """Whether this event belongs to the wizard: `setup`, its buttons, or an answer to it."""
    if said.command in NAMES:
        return True
    if incoming.direct:
        return False
    if incoming.action is not None:  # every button of the wizard carries the prefix
        return incoming.action.startswith(f"{PREFIX}:")
    return await _draft(session, incoming) is not None


async def handle(session: AsyncSession, content: Content, now: datetime,
                 incoming: Incoming, said: Said, bound: Partnership | None,
                 policy: SetupPolicy | None = None) -> list[Reply]:
    """`said`: the typed line; `bound`: the partnership this chat belongs to, if any;
    `policy`: whether this chat may create one (ACHTJE_SETUP, bot/tenants.py)."""
    lang = _language(incoming)
    if incoming.direct:
        return [Text(text=content.text("setup_in_group", lang))]
    draft = await _draft(session, incoming)
    if bound is not None:
        if draft is not None:
            await session.delete(draft)
        return _public(Text(text=content.text("setup_already_bound", lang,
                                              partnership=bound.name)))
    if said.command in NAMES and not (policy or SetupPolicy()).permits(incoming.platform,
                                                                       incoming.chat):
        logger.warning("setup refused in %s %s: not on ACHTJE_SETUP_ALLOW", incoming.platform,
                       incoming.chat)
        return _public(Text(text=content.text("setup_closed", lang)))
    if said.command in NAMES:
        await store.new_draft(session, incoming.platform, incoming.chat, incoming.user, now,
                              replacing=draft)
        return _public(Text(text=content.text("setup_intro", lang)),
                       FreeText(prompt=content.text("setup_ask_name", lang)))
    if draft is None:
        return _public(Text(text=content.text("setup_stale", lang)))
    wizard = _Wizard(session, content, now, incoming, draft, said.text)
    return _public(*await wizard.step())


class _Wizard:
    """One answer to the open question of a draft."""

    def __init__(self, session: AsyncSession, content: Content, now: datetime,
                 incoming: Incoming, draft: SetupDraft, text: str) -> None:
        self.session, self.content, self.now = session, content, now
        self.incoming, self.draft = incoming, draft
        self.text = text[:200].rstrip()
        self.data: dict[str, Any] = dict(draft.data)
        self.lang = self.data.get("language") or _language(incoming)

    def t(self, key: str, **values: object) -> str:
        return self.content.text(key, self.lang, **values)

    def save(self, **changes: Any) -> None:
        self.data.update(changes)
        self.draft.data = dict(self.data)  # a new dict, so the JSON change is written
        self.draft.updated_at = self.now

    def ask(self, step: str, prompt: str, options: list[Option]) -> Choice:
        self.save(step=step, options=[[o.label, o.value] for o in options])
        return Choice(prompt=prompt, options=tuple(options))

    def typed(self) -> str:
        return self.text

    def chosen(self) -> str | None:
        """The option picked: a button's value, or a typed number or label."""
        if self.incoming.action is not None:
            value = self.incoming.action
        else:
            value = match_option(self.typed(), self.data.get("options", [])) or ""
        kind, _, rest = value.partition(":")
        step, _, choice = rest.partition(":")
        return choice if kind == PREFIX and step == self.data["step"] else None

    async def step(self) -> list[Reply]:
        if self.incoming.action is None and self.typed().lower().rstrip(".!") in CANCEL_WORDS:
            await self.session.delete(self.draft)
            return [Text(text=self.t("setup_cancelled"))]
        handler = getattr(self, f"_on_{self.data['step']}")
        replies: list[Reply] = await handler()
        return replies

    async def _on_name(self) -> list[Reply]:
        name = self.typed()
        if typed_number(name) is not None:
            return [Text(text=self.t("setup_not_number")),
                    FreeText(prompt=self.t("setup_ask_name"))]
        if len(name) < 2:
            return [FreeText(prompt=self.t("setup_ask_name"))]
        self.save(name=name, step="sector")
        return [FreeText(prompt=self.t("setup_ask_sector"))]

    async def _on_sector(self) -> list[Reply]:
        sector = self.typed()
        self.save(sector="" if sector in ("", "-") else sector[:100], step="school")
        return [FreeText(prompt=self.t("setup_ask_school", number=1))]

    async def _on_school(self) -> list[Reply]:
        name = self.typed()
        schools = self.data["schools"]
        if typed_number(name) is not None:
            return [Text(text=self.t("setup_not_number")),
                    FreeText(prompt=self.t("setup_ask_school", number=len(schools) + 1))]
        if len(name) < 2 or any(s[0].lower() == name.lower() for s in schools):
            return [FreeText(prompt=self.t("setup_ask_school", number=len(schools) + 1))]
        self.save(pending_school=name)
        return [self.ask("type", self.t("setup_ask_type", school=name), [
            Option(self.t(f"setup_type_{kind}"), f"{PREFIX}:type:{kind}")
            for kind in SCHOOL_TYPES])]

    async def _on_type(self) -> list[Reply]:
        kind = self.chosen()
        if kind not in SCHOOL_TYPES:
            return [Text(text=self.t("setup_pick_button"))]
        schools = [*self.data["schools"], [self.data["pending_school"], kind]]
        self.save(schools=schools, pending_school=None)
        if len(schools) < MIN_SCHOOLS:
            self.save(step="school")
            return [FreeText(prompt=self.t("setup_ask_school", number=len(schools) + 1))]
        if len(schools) >= MAX_SCHOOLS:
            return [self._ask_region()]
        return [self.ask("more", self.t("setup_ask_more", count=len(schools)), [
            Option(self.t("setup_more_yes"), f"{PREFIX}:more:yes"),
            Option(self.t("setup_more_no"), f"{PREFIX}:more:no")])]

    async def _on_more(self) -> list[Reply]:
        more = self.chosen()
        if more == "yes":
            self.save(step="school")
            return [FreeText(prompt=self.t("setup_ask_school",
                                           number=len(self.data["schools"]) + 1))]
        if more == "no":
            return [self._ask_region()]
        return [Text(text=self.t("setup_pick_button"))]

    def _ask_region(self) -> Choice:
        return self.ask("region", self.t("setup_ask_region"), [
            Option(self.t(f"setup_region_{region}"), f"{PREFIX}:region:{region}")
            for region in REGIONS])

    async def _on_region(self) -> list[Reply]:
        region = self.chosen()
        if region not in REGIONS:
            return [Text(text=self.t("setup_pick_button"))]
        self.save(region=region)
        return [self.ask("language", self.t("setup_ask_language"), [
            Option("Nederlands", f"{PREFIX}:language:nl"),
            Option("English", f"{PREFIX}:language:en")])]

    async def _on_language(self) -> list[Reply]:
        language = self.chosen()
        if language not in LANGS:
            return [Text(text=self.t("setup_pick_button"))]
        self.lang = language
        return await self._create(language)

    async def _create(self, language: str) -> list[Reply]:
        data, incoming = self.data, self.incoming
        partnership = await store.create_partnership(
            self.session, data["name"], data.get("sector", ""), data["region"], language,
            data["schools"], self.now)
        await self.session.delete(self.draft)
        if not await binding.bind_chat(self.session, partnership.id, incoming.platform,
                                       incoming.chat, self.now):
            # Someone else's `setup` or `koppel` bound this chat a moment ago.
            await store.drop_partnership(self.session, partnership.id)
            other = await repo.partnership_for_chat(self.session, incoming.platform,
                                                    incoming.chat)
            logger.info("setup in %s chat %s lost to partnership %s", incoming.platform,
                        incoming.chat, other.id if other else None)
            return [Text(text=self.t("setup_already_bound",
                                     partnership=other.name if other else ""))]
        store.add_leader(self.session, partnership.id, incoming.platform, incoming.user,
                         clean_text(incoming.display_name, limit=200)[0], language, self.now)
        logger.info("partnership %s set up in %s chat %s", partnership.id, incoming.platform,
                    incoming.chat)
        schools = ", ".join(f"{name} ({kind})" for name, kind in data["schools"])
        return [Invitation(text=self.t("setup_done", partnership=partnership.name,
                                       schools=schools),
                           button=self.t("bind_start_button"), action=START_ACTION)]


async def _draft(session: AsyncSession, incoming: Incoming) -> SetupDraft | None:
    return await store.draft(session, incoming.platform, incoming.chat, incoming.user)


def _public(*replies: Reply) -> list[Reply]:
    return [replace(reply, public=True) for reply in replies]


def _language(incoming: Incoming) -> str:
    return "en" if (incoming.locale or "").lower().startswith("en") else "nl"
