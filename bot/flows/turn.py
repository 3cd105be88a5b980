"""One turn of a conversation: who speaks, in which partnership, and how to answer them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.messages import Choice, Incoming, Option, Reply, Text
from bot.store import repo
from bot.store.models import Member, Partnership

MAX_TEXT = 1000
# Control and bidi-override characters, and lone surrogates (undecodable input); the
# zero-width (non-)joiners stay, emoji need them.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
    r"\ue000-\uf8ff]"
)


def clean_text(text: str | None, limit: int = MAX_TEXT) -> tuple[str, bool]:
    """Text as typed, without control, direction or private-use characters, cut at `limit`.

    Returns the text and whether it had to be shortened.
    """
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text or "")).strip()
    return text[:limit].rstrip(), len(text) > limit


class Router(Protocol):
    """The engine's routing, for a handler that hands on what the member did before: the
    line or button that waited for the sign-up questions is replayed after them."""

    async def on_text(self, turn: Turn, text: str) -> list[Reply]: ...

    async def on_action(self, turn: Turn, value: str) -> list[Reply]: ...


@dataclass(frozen=True)
class Said:
    """A typed line, read once per turn: the text cleaned (`clean_text`, at most
    `MAX_LINE`), and the command it names with the words after it (lower case), if any."""

    text: str
    command: str | None = None
    arg: str = ""


MAX_LINE = 4000


@dataclass
class Turn:
    session: AsyncSession
    content: Content
    now: datetime
    incoming: Incoming
    member: Member
    partnership: Partnership
    router: Router | None = field(default=None, repr=False)
    public_url: str | None = None  # where people reach this server (the dashboard's links)

    @property
    def lang(self) -> str:
        return self.member.language

    def t(self, key: str, **values: object) -> str:
        return self.content.text(key, self.lang, **values)

    def say(self, key: str, **values: object) -> Text:
        return Text(text=self.t(key, **values))

    def local_today(self) -> date:
        return self.local_date(self.now)

    def local_date(self, moment: datetime) -> date:
        """The date of `moment` where the partnership is."""
        return moment.astimezone(ZoneInfo(self.partnership.timezone)).date()

    async def ask(
        self, prompt: str, options: Sequence[Option], keep: dict[str, Any] | None = None
    ) -> Choice:
        """A choice whose options can also be typed (number or label) in a text-only chat."""
        data = {"options": [[o.label, o.value] for o in options], **(keep or {})}
        await repo.set_conversation(self.session, self.member.id, "choice", data, self.now)
        return Choice(prompt=prompt, options=tuple(options))


# Numbers typed as words, in both languages: "drie" is a 3.
NUMBER_WORDS = {"een": 1, "één": 1, "eén": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5,
                "zes": 6, "zeven": 7, "acht": 8, "negen": 9, "tien": 10,
                "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10}


# Words that leave a flow's questions halfway: the check-in, an instrument, a menu.
STOP_WORDS = frozenset({"stop", "stoppen", "klaar", "afbreken", "annuleer", "annuleren",
                        "cancel", "quit", "done"})


def says_stop(text: str) -> bool:
    """Whether the line asks to stop ("stop", "Klaar!", "annuleer")."""
    return text.strip().lower().rstrip(".!") in STOP_WORDS


def typed_number(text: str) -> int | None:
    """A whole number typed as digits or as a word ("3", "drie", "Three."), else None."""
    typed = text.strip().lower().rstrip(".!")
    if typed.isascii() and typed.isdigit():
        return int(typed)
    return NUMBER_WORDS.get(typed)


def match_option(text: str, options: list[list[str]]) -> str | None:
    """The value of the option a typed answer names: its number or its label."""
    typed = text.strip().lower().rstrip(".")
    number = typed_number(typed)
    if number is not None and 1 <= number <= len(options):
        return options[number - 1][1]
    for label, value in options:
        if typed == label.lower():
            return value
    return None
