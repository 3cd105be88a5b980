"""Neutral replies out as Telegram messages: plain text (no parse mode), inline keyboards.

Text is sent as typed, never parsed, so nothing in it needs escaping and nothing a person
typed becomes markup; a mention is a `text_mention` entity over the person's name. Pure
functions: the adapter resolves button values to callback_data (a long value gets a short
id from the database) and threads to message ids before calling `render`.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    ReplyParameters,
    User,
)

from adapters.telegram.translate import encode_start
from bot.messages import (
    Choice,
    FreeText,
    Image,
    Incoming,
    Invitation,
    Mention,
    Noted,
    Option,
    Reply,
    Scale,
    Text,
    split_mentions,
)

logger = logging.getLogger(__name__)

MAX_TEXT = 4096  # UTF-16 code units, as Telegram counts
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes of UTF-8
Markup = InlineKeyboardMarkup | ForceReply


@dataclass(frozen=True)
class Outgoing:
    """One Telegram message: text (or a photo with caption), its keyboard, the mentions in
    it, and the message it answers (Telegram's threads are chains of replies)."""

    text: str
    markup: Markup | None = None
    photo: bytes | None = None
    entities: tuple[MessageEntity, ...] = ()
    reply_to: int | None = None

    @property
    def reply_parameters(self) -> ReplyParameters | None:
        """Answer that message if it still exists; if it is gone, post all the same."""
        if self.reply_to is None:
            return None
        return ReplyParameters(self.reply_to, allow_sending_without_reply=True)


@dataclass(frozen=True)
class Asked:
    """The person a group's typed question is for. The reply field (ForceReply) opens only
    for them: the question answers their own message, or else names them."""

    user: int
    name: str
    message: int | None = None  # what they typed, when they typed (not pressed) it

    @classmethod
    def of(cls, incoming: Incoming) -> Asked | None:
        """Who answers the replies to this event from a group."""
        if not incoming.user.isdigit():
            return None
        typed = incoming.action is None and incoming.message is not None
        return cls(int(incoming.user), incoming.display_name or incoming.user,
                   message_id(incoming.message) if typed else None)


def message_id(reference: str | None) -> int | None:
    """A message named by the engine (a thread, an edit): its Telegram id."""
    if reference is None:
        return None
    if not reference.isdigit():
        logger.warning("not a Telegram message id: %r", reference)
        return None
    return int(reference)


def fits_callback_data(value: str) -> bool:
    return 0 < len(value.encode()) <= MAX_CALLBACK_DATA


def button_values(reply: Reply, private_chat: bool) -> list[str]:
    """The option values of a reply that become callback_data when it is rendered."""
    match reply:
        case Scale() | Choice():
            return [option.value for option in reply.options]
        case FreeText() if reply.skip is not None:
            return [reply.skip.value]
        case Invitation() if private_chat:
            return [reply.action]
    return []


def render(
    reply: Reply,
    *,
    chat: int,
    bot_username: str,
    callback_data: Mapping[str, str],
    thread: int | None = None,
    asked: Asked | None = None,
) -> list[Outgoing]:
    """The messages for one reply in `chat` (positive ids are private chats, negative groups).

    `callback_data` maps each of `button_values(reply)` to what goes in the button;
    `thread` is the message the reply answers; `asked` who a typed question in a group is for.
    """
    private = chat > 0

    def button(option: Option, label: str | None = None) -> InlineKeyboardButton:
        return InlineKeyboardButton(label or option.label,
                                    callback_data=callback_data[option.value])

    match reply:
        case Noted():
            return []  # nothing to show
        case Text():
            return _messages(split_mentions(reply.text, reply.mentions), reply_to=thread)
        case Scale():
            options = reply.options
            if len(options) == 7:  # 1-5, then "don't know" and "skip"
                legend = f"\n\n1 = {options[0].label} · 5 = {options[4].label}"
                rows = [[button(o, str(n)) for n, o in enumerate(options[:5], start=1)],
                        [button(o) for o in options[5:]]]
                return _messages(reply.prompt + legend, InlineKeyboardMarkup(rows),
                                 reply_to=thread)
            return _messages(reply.prompt, InlineKeyboardMarkup([[button(o)] for o in options]),
                             reply_to=thread)
        case Choice():
            return _messages(reply.prompt,
                             InlineKeyboardMarkup([[button(o)] for o in reply.options]),
                             reply_to=thread)
        case FreeText():
            # One message carries one keyboard: the skip button wins, and typing still
            # answers (in a group: by replying to the question).
            if reply.skip is not None:
                return _messages(reply.prompt, InlineKeyboardMarkup([[button(reply.skip)]]),
                                 reply_to=thread)
            if private:
                return _messages(reply.prompt, ForceReply(selective=True), reply_to=thread)
            if asked is None:  # a question for the whole group
                return _messages(reply.prompt, ForceReply(), reply_to=thread)
            return _asked(reply.prompt, asked, thread)
        case Invitation():
            if private:
                pressed = InlineKeyboardButton(reply.button,
                                               callback_data=callback_data[reply.action])
            else:
                pressed = InlineKeyboardButton(reply.button,
                                               url=deep_link(bot_username, reply.action, chat))
            return _messages(reply.text, InlineKeyboardMarkup([[pressed]]), reply_to=thread)
        case Image():
            caption = reply.caption.strip()
            if utf16_len(caption) <= MAX_CAPTION:
                return [Outgoing(caption, photo=reply.png, reply_to=thread)]
            return [Outgoing("", photo=reply.png, reply_to=thread),
                    *_messages(caption)]
    raise TypeError(f"cannot render {type(reply).__name__}")


def _asked(prompt: str, asked: Asked, thread: int | None) -> list[Outgoing]:
    """A typed question in a group, with a reply field for the one person it is for: under
    their own message when it answers one, otherwise with their name in front."""
    selective = ForceReply(selective=True)
    if thread is None and asked.message is not None:
        return _messages(prompt, selective, reply_to=asked.message)
    named: list[str | Mention] = [Mention(str(asked.user), asked.name), f": {prompt}"]
    return _messages(named, selective, reply_to=thread)


def deep_link(bot_username: str, action: str, group: int | None = None) -> str:
    """https://t.me/<bot>?start=... that brings `action` (and the group) to a private chat."""
    payload = encode_start(action, group) or encode_start(action)
    link = f"https://t.me/{bot_username}"
    return f"{link}?start={payload}" if payload else link


# A mention in plain text: where the name starts and ends, and whose it is.
_Named = tuple[int, int, int]


def _messages(text: str | Sequence[str | Mention], markup: Markup | None = None, *,
              reply_to: int | None = None) -> list[Outgoing]:
    """A text, or its parts and mentions, as messages. Long texts are split; the first
    piece answers `reply_to`, the keyboard goes under the last piece. An empty text sends
    nothing, unless a keyboard needs a message."""
    plain, named = _with_names([text] if isinstance(text, str) else text)
    spans = text_spans(plain) or ([] if markup is None else [(0, 0)])
    messages = []
    for number, (start, end) in enumerate(spans):
        last = number == len(spans) - 1
        messages.append(Outgoing(
            plain[start:end] or "…", markup if last else None,
            entities=_entities(plain, start, end, named),
            reply_to=reply_to if number == 0 else None))
    return messages


def _with_names(parts: Sequence[str | Mention]) -> tuple[str, list[_Named]]:
    """The text with each mention's name in its place, and where those names are (only
    for mentions of a Telegram user id: anything else stays plain text)."""
    plain, named = "", []
    for part in parts:
        if isinstance(part, str):
            plain += part
            continue
        if part.user.isdigit() and part.name:
            named.append((len(plain), len(plain) + len(part.name), int(part.user)))
        plain += part.name
    return plain, named


def _entities(plain: str, start: int, end: int, named: list[_Named]
              ) -> tuple[MessageEntity, ...]:
    """The text mentions that lie whole inside `plain[start:end]`, in UTF-16 offsets."""
    return tuple(
        MessageEntity(MessageEntity.TEXT_MENTION, utf16_len(plain[start:first]),
                      utf16_len(plain[first:after]),
                      user=User(user, plain[first:after], is_bot=False))
        for first, after, user in named if start <= first and after <= end)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def text_spans(text: str, limit: int = MAX_TEXT) -> list[tuple[int, int]]:
    """Where a long text is cut: (start, end) of pieces of at most `limit` UTF-16 units,
    without the spaces between; cut at a paragraph, line or space if there is one in the
    second half of a piece, and never inside a character or an emoji."""
    start, stop = 0, len(text)
    while start < stop and text[start].isspace():
        start += 1
    while stop > start and text[stop - 1].isspace():
        stop -= 1
    spans = []
    while utf16_len(text[start:stop]) > limit:
        rest = text[start:stop]
        cut = start + _nice_cut(rest, _fit(rest, limit))
        end = cut
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
        start = cut
        while start < stop and text[start].isspace():
            start += 1
    if start < stop:
        spans.append((start, stop))
    return spans


def _fit(text: str, limit: int) -> int:
    """The number of characters that fit in `limit` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _nice_cut(text: str, end: int) -> int:
    for separator in ("\n\n", "\n", " "):
        at = text.rfind(separator, end // 2, end)
        if at > 0:
            return at
    cut = end
    while cut > 1 and not _between_graphemes(text, cut):
        cut -= 1
    return cut if cut > 1 else end


_JOINERS = {"\u200d"}  # zero width joiner: 👩‍💻 is three characters, one emoji
_REGIONAL = range(0x1F1E6, 0x1F200)  # two of these make a flag


def _between_graphemes(text: str, at: int) -> bool:
    """Whether cutting before `text[at]` keeps every visible character whole (a close
    approximation of Unicode grapheme clusters, good for emoji and accents)."""
    before, after = text[at - 1], text[at]
    if before in _JOINERS or after in _JOINERS:
        return False
    code = ord(after)
    if unicodedata.category(after).startswith("M") or 0xFE00 <= code <= 0xFE0F:
        return False  # combining accents, keycaps, variation selectors
    if 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:
        return False  # skin tones, the tags of subdivision flags
    if code in _REGIONAL:
        run = 0
        while at - run - 1 >= 0 and ord(text[at - run - 1]) in _REGIONAL:
            run += 1
        return run % 2 == 0
    return True
