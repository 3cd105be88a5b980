"""Telegram updates in, neutral `Incoming` out; and the deep-link payloads of `/start`.

Pure functions, no I/O: what needs the network or the database (checking that someone is
in a group, looking up a long button value) is the adapter's job.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import replace

from telegram import Message, Update

from bot.messages import Incoming

PLATFORM = "telegram"
MAX_PAYLOAD = 64  # Telegram's limit for ?start=
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Actions that read well in a link: "cmd:checkin" <-> "cmd-checkin".
_READABLE = re.compile(r"[a-z][A-Za-z0-9_]*(:[A-Za-z0-9_]+)*")
# "G<digits>_" in front names the group the invitation was posted in (id -<digits>).
_FROM_GROUP = re.compile(r"G([0-9]{1,20})_(.+)")


def encode_start(action: str, group: int | None = None) -> str | None:
    """The `/start` payload that brings `action` back, or None when it cannot fit.

    Letters, digits, `_` and `-` only, at most 64 characters. A readable form for the usual
    actions, base64 (marked by a leading `_`) for anything else.
    """
    if _READABLE.fullmatch(action):
        body = action.replace(":", "-")
    else:
        body = "_" + base64.urlsafe_b64encode(action.encode()).decode().rstrip("=")
    if group is not None and group < 0:
        body = f"G{-group}_{body}"
    return body if len(body) <= MAX_PAYLOAD else None


def decode_start(payload: str) -> tuple[str | None, int | None]:
    """(action, group chat id) from a `/start` payload; (None, None) for one we never made."""
    if not _PAYLOAD.fullmatch(payload):
        return None, None
    group = None
    if found := _FROM_GROUP.fullmatch(payload):
        group, payload = -int(found.group(1)), found.group(2)
    if payload.startswith("_"):
        encoded = payload[1:]
        try:
            action = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None, None
    else:
        action = payload.replace("-", ":")
    return (action, group) if action and action.isprintable() else (None, None)


WHERE_USER_ID = ("Telegram's apps do not show it: in Telegram Desktop turn on Settings > "
                 "Advanced > Experimental settings > 'Show Peer IDs in Profile', or let the "
                 "person join through the group's button instead of importing them")


def ref_problem(kind: str, reference: str) -> str | None:
    """Why `reference` is not a Telegram `user` (a positive number) or `channel` (a chat
    id: a number, negative for groups), or None."""
    text = reference.strip()
    number = text.removeprefix("-")
    if not number.isdigit() or int(number) == 0:
        return (f"Telegram {kind} {reference!r} must be a number"
                + (f" ({WHERE_USER_ID})" if kind == "user" else
                   " (a group's id is negative, e.g. -1001234567890; "
                   "or bind with `achtje bind-code` and /koppel in the group)"))
    if kind == "user" and text.startswith("-"):
        return f"Telegram user {reference!r} must be a positive number (negative ids are chats)"
    return None


def to_incoming(update: Update, bot_username: str) -> Incoming | None:
    """What the person did, or None for what the engine need not see.

    In groups only what is said to the bot counts, which is also all that a bot in privacy
    mode gets: commands, replies to the bot's own messages (the answers to its typed
    questions) and lines that start by mentioning it (the mention is left out). Both are
    `visible`, lines for the group; a mention is `addressed` too, so the engine takes a
    command from it ("@bot privacy") and nothing else ("@bot 3"). A `/start`
    whose payload names a group comes back as said in that group, and the adapter checks
    that the person is in it before passing it on.
    """
    if update.callback_query is not None:
        return _pressed(update)
    message = update.message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return None
    if message.migrate_to_chat_id or message.migrate_from_chat_id:
        return None
    text = message.text or message.caption or ""
    private = message.chat.type == "private"
    user = message.from_user
    base = Incoming(platform=PLATFORM, user=str(user.id), chat=str(message.chat.id),
                    direct=private, locale=user.language_code, display_name=user.full_name,
                    event_id=f"u{update.update_id}", message=str(message.message_id),
                    thread=_thread(message), raw=update)
    if not text.startswith("/"):
        if private:
            return replace(base, text=text)
        addressed = _addressed(text, bot_username)
        if addressed is not None:  # "@bot privacy" is a command; "@bot 3" answers nothing
            return replace(base, text=addressed, visible=True, addressed=True)
        if _answers_bot(message, bot_username):
            return replace(base, text=text, visible=True)
        return None
    command, _, payload = text.partition(" ")
    name, _, addressee = command.partition("@")
    if addressee and addressee.lower() != bot_username.lower():
        return None  # a command for another bot in the same group
    if name.lower() == "/start" and payload.strip():
        action, group = decode_start(payload.strip())
        if action is None:
            return replace(base, text="/start")
        if group is not None and private:
            return replace(base, chat=str(group), direct=False, action=action)
        return replace(base, action=action)
    return replace(base, text=text)


def anonymous_command(update: Update, bot_username: str) -> bool:
    """A command for the bot from a group admin who posts anonymously, as the group itself:
    Telegram does not say who it is, so nothing can be done for them (binding the group
    with /koppel included), and the adapter tells them so."""
    message = update.message
    if (message is None or message.sender_chat is None
            or message.sender_chat.id != message.chat.id or not message.text
            or not message.text.startswith("/")):
        return False
    addressee = message.text.partition(" ")[0].partition("@")[2]
    return not addressee or addressee.lower() == bot_username.lower()


def _answers_bot(message: Message, bot_username: str) -> bool:
    """Whether a group message replies to one of the bot's own messages."""
    parent = message.reply_to_message
    author = parent.from_user if parent is not None else None
    return (author is not None and author.is_bot
            and (author.username or "").lower() == bot_username.lower())


def _addressed(text: str, bot_username: str) -> str | None:
    """`@achtje_bot koffie aan` -> "koffie aan"; None when the line is not for the bot."""
    first, _, rest = text.strip().partition(" ")
    if first.lower().rstrip(",:") != f"@{bot_username.lower()}" or not rest.strip():
        return None
    return rest.strip()


def _pressed(update: Update) -> Incoming | None:
    query = update.callback_query
    assert query is not None
    if query.data is None:
        return None
    message = query.message
    chat = message.chat if message is not None else None
    private = chat is None or chat.type == "private"
    # In a private chat one press of one button is one event, however often they tap (or
    # Telegram sends it): its question is answered once. A group's buttons stay for
    # everyone and may be pressed again on purpose (a vote changed, then changed back), so
    # there each update is an event of its own.
    event_id = (f"c{chat.id}:{message.message_id}:{query.from_user.id}:{query.data}"
                if private and message is not None and chat is not None
                else f"u{update.update_id}")
    return Incoming(
        platform=PLATFORM, user=str(query.from_user.id),
        chat=str(chat.id if chat is not None else query.from_user.id),
        direct=private, action=query.data,
        locale=query.from_user.language_code, display_name=query.from_user.full_name,
        event_id=event_id, raw=update,
        message=str(message.message_id) if message is not None else None,
        thread=_thread(message) if isinstance(message, Message) else None,
    )


def _thread(message: Message) -> str | None:
    """A Telegram thread is a chain of replies: the message this one answers."""
    parent = message.reply_to_message
    return str(parent.message_id) if parent is not None else None
