"""Neutral replies out as Telegram messages: plain text (no parse mode), inline keyboards.

Pure functions: the adapter resolves button values to callback_data (a long value gets a
short id from the database) before calling `render`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup

from adapters.telegram.translate import encode_start
from bot.messages import Choice, FreeText, Image, Invitation, Option, Reply, Scale, Text

MAX_TEXT = 4096  # UTF-16 code units, as Telegram counts
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes of UTF-8
Markup = InlineKeyboardMarkup | ForceReply


@dataclass(frozen=True)
class Outgoing:
    """One Telegram message: text (or a photo with caption) and its keyboard, if any."""

    text: str
    markup: Markup | None = None
    photo: bytes | None = None


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
) -> list[Outgoing]:
    """The messages for one reply in `chat` (positive ids are private chats, negative groups).

    `callback_data` maps each of `button_values(reply)` to what goes in the button.
    """
    private = chat > 0

    def button(option: Option, label: str | None = None) -> InlineKeyboardButton:
        return InlineKeyboardButton(label or option.label,
                                    callback_data=callback_data[option.value])

    match reply:
        case Text():
            return [Outgoing(piece) for piece in split_text(reply.text)]
        case Scale():
            options = reply.options
            if len(options) == 7:  # 1-5, then "don't know" and "skip"
                legend = f"\n\n1 = {options[0].label} · 5 = {options[4].label}"
                rows = [[button(o, str(n)) for n, o in enumerate(options[:5], start=1)],
                        [button(o) for o in options[5:]]]
                return _with_markup(reply.prompt + legend, InlineKeyboardMarkup(rows))
            return _with_markup(reply.prompt,
                                InlineKeyboardMarkup([[button(o)] for o in options]))
        case Choice():
            return _with_markup(reply.prompt,
                                InlineKeyboardMarkup([[button(o)] for o in reply.options]))
        case FreeText():
            # One message carries one keyboard: the skip button wins, and typing still
            # answers (the engine takes the next message in a private chat as the answer).
            if reply.skip is not None:
                return _with_markup(reply.prompt, InlineKeyboardMarkup([[button(reply.skip)]]))
            return _with_markup(reply.prompt, ForceReply(selective=True) if private else None)
        case Invitation():
            if private:
                pressed = InlineKeyboardButton(reply.button,
                                               callback_data=callback_data[reply.action])
            else:
                pressed = InlineKeyboardButton(reply.button,
                                               url=deep_link(bot_username, reply.action, chat))
            return _with_markup(reply.text, InlineKeyboardMarkup([[pressed]]))
        case Image():
            caption = reply.caption.strip()
            if utf16_len(caption) <= MAX_CAPTION:
                return [Outgoing(caption, photo=reply.png)]
            return [Outgoing("", photo=reply.png),
                    *(Outgoing(piece) for piece in split_text(caption))]
    raise TypeError(f"cannot render {type(reply).__name__}")


def deep_link(bot_username: str, action: str, group: int | None = None) -> str:
    """https://t.me/<bot>?start=... that brings `action` (and the group) to a private chat."""
    payload = encode_start(action, group) or encode_start(action)
    link = f"https://t.me/{bot_username}"
    return f"{link}?start={payload}" if payload else link


def _with_markup(text: str, markup: Markup | None) -> list[Outgoing]:
    """Long prompts are split; the keyboard goes under the last piece."""
    pieces = split_text(text) or ["…"]
    return [*(Outgoing(piece) for piece in pieces[:-1]), Outgoing(pieces[-1], markup)]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` UTF-16 units, cut at a paragraph, line or space if there
    is one in the second half of a piece, and never inside a character or an emoji."""
    pieces = []
    text = text.strip()
    while utf16_len(text) > limit:
        end = _fit(text, limit)
        cut = _nice_cut(text, end)
        piece = text[:cut].rstrip()
        if piece:
            pieces.append(piece)
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


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
