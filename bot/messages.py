"""The neutral messages between adapters and the engine.

An adapter turns a platform event into an `Incoming` and renders the engine's `Reply`
objects with whatever its platform offers (Block Kit, inline keyboards, plain text).
Nothing here knows about a platform; `raw` carries the original event for the adapter's
own use and the engine never reads it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, kw_only=True)
class Incoming:
    """One thing a person did: typed a line or pressed a button.

    `message` is the platform's id of the message whose button was pressed, `thread` the
    id of the thread the event happened in (its first message); either may be None.
    `visible` says the typed text is a message everyone in the chat can read (on Telegram: a
    reply to one of the bot's messages in a group, or a line that names the bot), not a
    command only the bot sees or an answer typed in a private window; the engine takes no
    command from it, unless it is `addressed`: said to the bot by name ("@bot privacy"),
    so a command when it begins with one.
    """

    platform: str
    user: str
    chat: str
    direct: bool
    text: str | None = None
    action: str | None = None
    locale: str | None = None
    display_name: str | None = None
    event_id: str | None = None
    message: str | None = None
    thread: str | None = None
    visible: bool = False
    addressed: bool = False
    raw: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Option:
    """A button: what it says and the opaque value that comes back when pressed."""

    label: str
    value: str


@dataclass(frozen=True, kw_only=True)
class Reply:
    """Base of everything the engine says.

    `edit_of`/`thread_of` name an earlier message to replace or answer under; `private`
    means only the person who acted may see it (a DM or an ephemeral message). `public` is
    the engine's own marker for a post meant for the whole chat (an announcement, a poll, an
    aggregate): the engine leaves such a reply public even when it answers a group message,
    where it otherwise makes every reply private. Adapters read `private` only, and
    `retry`: the action did not take effect; the person may press again (so a pressed
    question keeps its buttons).
    """

    edit_of: str | None = None
    thread_of: str | None = None
    private: bool = False
    public: bool = False
    retry: bool = False


# `thread_of=FIRST`: answer under the first message of the same `send` call, so a channel
# post and its details can travel as one outbox row.
FIRST = "@first"


@dataclass(frozen=True)
class Mention:
    """A person named in a text: the adapter links them where its platform can."""

    user: str
    name: str


# Marks are written with characters from Unicode's private use area, which typed text never
# keeps (`bot.flows.turn.clean_text` drops them): a name or school cannot fake a mention.
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"


def mention_mark(index: int) -> str:
    """The placeholder for `mentions[index]` inside a `Text`."""
    return f"{MARK_OPEN}{index}{MARK_CLOSE}"


_MARK = re.compile(f"{MARK_OPEN}(\\d+){MARK_CLOSE}")


def split_mentions(text: str, mentions: Sequence[Mention]) -> list[str | Mention]:
    """The text cut into plain parts and the mentions its marks stand for, in order.

    A mark without a mention is dropped.
    """
    parts: list[str | Mention] = []
    last = 0
    for match in _MARK.finditer(text):
        index = int(match.group(1))
        parts.append(text[last:match.start()])
        if index < len(mentions):
            parts.append(mentions[index])
        last = match.end()
    parts.append(text[last:])
    return [part for part in parts if part != ""]


def known_language(locale: str | None) -> str | None:
    """The language ("nl" or "en") a platform's locale ("en-GB", "nl", ...) names, if it
    is one of ours."""
    lowered = (locale or "").lower()
    if lowered.startswith("en"):
        return "en"
    if lowered.startswith("nl"):
        return "nl"
    return None


def locale_language(locale: str | None) -> str:
    """The language for a platform's locale: Dutch unless it names English."""
    return known_language(locale) or "nl"


@dataclass(frozen=True)
class Outcome:
    """What one turn produced: everything an adapter needs to show it, without a database.

    `language` is the person's ("nl" or "en"; guessed from the platform's locale for
    someone we do not know), for the adapter's own words: the chosen button, the apology.
    """

    replies: list[Reply]
    language: str

    @property
    def shown(self) -> list[Reply]:
        """The replies that are something to post (all but `Noted`)."""
        return shown(self.replies)

    def press_took_effect(self, incoming: Incoming) -> bool:
        """Whether a pressed question may now show the choice instead of its buttons: the
        engine answered, did not ask to `retry`, and did not itself edit that message."""
        return bool(self.replies) and all(
            reply.edit_of != incoming.message and not reply.retry for reply in self.replies)


@dataclass(frozen=True, kw_only=True)
class Noted(Reply):
    """A press on a question that was already answered (a double tap, two buttons of one
    question, a stale copy): it counted, perhaps replacing the answer, but there is nothing
    new to say. Adapters post nothing for it; the pressed message shows the choice."""


def shown(replies: Sequence[Reply]) -> list[Reply]:
    """The replies that are something to post (all but `Noted`)."""
    return [reply for reply in replies if not isinstance(reply, Noted)]


@dataclass(frozen=True, kw_only=True)
class Text(Reply):
    """Plain text; `mentions` fill the `mention_mark(i)` places in it (see `split_mentions`)."""

    text: str
    mentions: tuple[Mention, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Scale(Reply):
    """A statement scored 1-5, plus "don't know" and "skip" as the last two options."""

    prompt: str
    options: tuple[Option, ...]


@dataclass(frozen=True, kw_only=True)
class Choice(Reply):
    prompt: str
    options: tuple[Option, ...]


@dataclass(frozen=True, kw_only=True)
class FreeText(Reply):
    """Asks for a typed answer; `skip` is the button for not answering."""

    prompt: str
    skip: Option | None = None


@dataclass(frozen=True, kw_only=True)
class Invitation(Reply):
    """Said in a channel or group: an invitation to do something privately.

    Pressing the button must reach the engine as the action `action` from that person in
    a private chat (Slack: a button; Telegram: a deep link to the bot's private chat).
    """

    text: str
    button: str
    action: str


@dataclass(frozen=True, kw_only=True)
class Image(Reply):
    png: bytes = field(repr=False)
    caption: str


class DeliveryError(Exception):
    """A platform did not take a message; the subclass says what the sender should do."""


class Unreachable(DeliveryError):
    """Permanent: the person blocked the bot, left, or the channel is gone. Do not retry."""


class RetryLater(DeliveryError):
    """The platform asked to slow down (or failed for a moment); try again after a while."""

    def __init__(self, retry_after: float, message: str = "") -> None:
        super().__init__(message or f"retry after {retry_after:.1f}s")
        self.retry_after = retry_after


class DeliveryUncertain(DeliveryError):
    """Timed out after the platform may have accepted the message: it may have arrived."""


@dataclass
class Parts:
    """The posts of one scheduled send (an outbox row), numbered in the order they go out
    (0 first), and which of them already went out, with the platform's reference to each
    ("<chat> <message id>"). An adapter that takes `parts` skips a post already out, tags
    every post with `key` where its platform lets it (Slack: message metadata), and calls
    `before(n)` right before posting `n`, so the posts before it are recorded durably
    first. `doubt`: the last attempt lost an answer, so look up what arrived before posting
    (an adapter that cannot look raises `DeliveryUncertain` instead of posting blind).
    """

    key: int
    sent: dict[int, str] = field(default_factory=dict)
    doubt: bool = False
    save: Callable[[Parts], Awaitable[None]] | None = None
    _saved: int = field(default=0, init=False, repr=False)  # how many of `sent` are saved

    def __post_init__(self) -> None:
        self._saved = len(self.sent)  # what it starts with came from the row

    async def before(self, part: int) -> None:
        """About to post `part`: record what went out before it, if anything new did."""
        if self.save is not None and len(self.sent) != self._saved:
            await self.save(self)
            self._saved = len(self.sent)

    def posted(self, part: int, chat: str, ref: object) -> None:
        self.sent[part] = f"{chat} {ref}"

    def ref(self, part: int) -> tuple[str, str] | None:
        """(chat, message id) of a part that already went out, else None."""
        found = self.sent.get(part)
        if found is None:
            return None
        chat, _, ref = found.partition(" ")
        return chat, ref


class Adapter(Protocol):
    """What a platform must do for achtje: run, and deliver replies.

    `send` posts to a chat (channel, group or DM) by its platform id; `send_direct` reaches
    one person privately by their platform user id. Both raise a `DeliveryError` subclass
    when the platform does not take the message. An adapter that sets `takes_parts` also
    accepts `parts=Parts(...)` on both (see `Parts`); one that sets `looks_up` can tell,
    given `Parts.doubt`, which posts of an earlier attempt arrived.
    """

    platform: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, chat: str, replies: Sequence[Reply]) -> None: ...

    async def send_direct(self, user: str, replies: Sequence[Reply]) -> None: ...
