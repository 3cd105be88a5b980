"""What every adapter does the same way, whatever its platform, and how a platform
describes itself (`Platform`).

Numbering the posts of one send (and skipping those a scheduled send already got out),
turning a failure after part of a send went out into `DeliveryUncertain`, and the adapter's
own few words: the choice shown on a pressed question and the apology after an error.
The platform parts (how a post is made, what an error code means) stay in each adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.content import Content
from bot.messages import Adapter, DeliveryUncertain, Parts, Text, Unreachable
from bot.rates import PlatformLimits
from bot.settings import Settings

if TYPE_CHECKING:
    from adapters.web import WebServer
    from bot.engine import Engine

Builder = Callable[[Settings, "Engine", "WebServer"], Adapter]
RefCheck = Callable[[str, str], "str | None"]


def any_ref(kind: str, reference: str) -> str | None:
    """A platform that takes whatever id it is given (the terminal chat)."""
    return None


@dataclass(frozen=True)
class Platform:
    """Everything outside adapters/ knows of one platform. `settings`: the `Settings`
    fields that switch it on (any one set). `limits`: how fast it takes messages (the
    scheduler's rate limiter keeps to them). `invites_in_channel`: a check-in is also
    announced in each bound channel, with a button to the private chat (a bot that cannot
    start a private chat needs it). `build` makes its adapter, which carries `limits` and
    `invites_in_channel` too, for the scheduler to read. `check_ref(kind, reference)`:
    why a `user` or `channel` id an operator typed is not in the platform's form, or None."""

    name: str
    settings: tuple[str, ...]
    limits: PlatformLimits
    invites_in_channel: bool
    build: Builder
    check_ref: RefCheck = any_ref

    def configured(self, settings: Settings) -> bool:
        return any(getattr(settings, name) for name in self.settings)


class Posts:
    """The posts of one send, numbered in the order they go out. With `parts` (a
    scheduled send) a post already out is skipped (`skipped` hears where it is) and each
    one that goes is recorded. `anything`: a post of this send is out, or was already."""

    def __init__(self, parts: Parts | None = None) -> None:
        self.parts = parts
        self.anything = False
        self._next = 0

    async def start(self) -> int | None:
        """The number of the next post; None when it already went out (skip it)."""
        part, self._next = self._next, self._next + 1
        if self.parts is None:
            return part
        done = self.parts.ref(part)
        if done is not None:
            self.skipped(*done)
            return None
        await self.parts.before(part)
        return part

    def again(self) -> None:
        """The number just taken was not used (an edit that did not fit): reuse it."""
        self._next -= 1

    def skipped(self, chat: str, ref: str) -> None:
        """A post that an earlier attempt got out: `ref` is the platform's message id."""
        self.anything = True

    def posted(self, chat: str, ref: object = None, part: int | None = None) -> None:
        """Post `part` (None: not numbered) went out to `chat` as message `ref`."""
        self.anything = True
        if part is not None and self.parts is not None:
            self.parts.posted(part, chat, ref)


@contextmanager
def uncertain_after_part(posts: Posts) -> Iterator[None]:
    """Around one send: once a post went out, a failure other than `Unreachable` becomes
    `DeliveryUncertain` (sending it all again would repeat what arrived). A scheduled send
    (`parts`) raises its failure as it is: `parts` says what went out."""
    try:
        yield
    except Unreachable:
        raise
    except Exception as exc:
        if posts.parts is not None or not posts.anything:
            raise
        raise DeliveryUncertain(f"failed after part of it was sent: {exc!r}") from exc


def chosen(content: Content, lang: str, label: str | None) -> str | None:
    """What a pressed question shows instead of its buttons ("Je koos ...")."""
    return content.text("chosen", lang, choice=label) if label is not None else None


def apology(content: Content, lang: str, *, private: bool = False) -> Text:
    """Said after something went wrong on our side."""
    return Text(text=content.text("error", lang), private=private)
