"""Activities for the engine's replies: pure functions, no I/O.

A `Text` is a markdown message; everything typed by people (names, schools, answers) is
escaped first, so no name can add a link, a heading or a mention. A `Mention` becomes
Teams' `<at>Name</at>` with a mention entity on the person's Entra ID object id. Questions
(`Scale`, `Choice`, `FreeText`), an `Invitation` and an `Image` are Adaptive Cards (1.4);
each button is an Action.Submit whose data is `{"a8": <the engine's value>}`, which comes
back as the press (`translate.pressed`). A chart is a data: URI image inside a card
(Teams keeps such images out of its ~100 KB message limit; ours are < 1 MB and
< 1024x1024 px).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adapters.teams.translate import DATA_KEY, LABEL_KEY
from bot.content import Content
from bot.messages import (
    Choice,
    FreeText,
    Image,
    Invitation,
    Mention,
    Option,
    Reply,
    Scale,
    Text,
    split_mentions,
)

Activity = dict[str, Any]
CARD = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ANSWER_INPUT = "answer"
# Teams refuses a message over ~100 KB as UTF-16 (data: images not counted; older limits
# were 40 KB, and Adaptive Cards elsewhere in Microsoft 365 stop at ~28 KB). We keep every
# message under 28 KB of UTF-16 (14,000 code units), and cut long texts well below that.
MAX_SIZE = 14_000  # UTF-16 code units of a message's JSON
TEXT_SIZE = 12_000  # UTF-16 code units of one message's text and its mention entities
ROW = 5  # buttons in a row; Teams shows no more than about six
_SPECIAL = re.compile(r"([\\`*_\[\]#~])")  # what Teams' markdown acts on


@dataclass(frozen=True)
class Labels:
    send: str
    placeholder: str


def labels_for(content: Content, lang: str) -> Labels:
    return Labels(send=content.text("teams_send", lang),
                  placeholder=content.text("teams_type_answer", lang))


def escape(text: str, *, html: bool = True) -> str:
    """Typed text shown as typed: markdown characters lose their meaning, and in a
    message (not a card, which shows no HTML) so do HTML's."""
    if html:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", text)


def render(reply: Reply, labels: Labels) -> list[Activity]:
    """The activities for one reply (none for a reply type Teams has no form for)."""
    if isinstance(reply, Text):
        return text_messages(reply.text, reply.mentions)
    if isinstance(reply, Scale) and len(reply.options) == 7:  # 1-5, "don't know", "skip"
        options = reply.options
        legend = f"\n\n1 = {options[0].label} · 5 = {options[4].label}"
        numbered = [button(o, str(n)) for n, o in enumerate(options[:5], start=1)]
        return [card([block(reply.prompt + legend), action_set(numbered),
                      action_set([button(o) for o in options[5:]])], [])]
    if isinstance(reply, Scale | Choice):
        buttons = [button(o) for o in reply.options]
        rows = [action_set(buttons[i:i + ROW]) for i in range(0, len(buttons), ROW)]
        return [card([block(reply.prompt), *rows], [])]
    if isinstance(reply, FreeText):
        field = {"type": "Input.Text", "id": ANSWER_INPUT, "isMultiline": True,
                 "placeholder": labels.placeholder, "maxLength": 2000}
        actions = [{"type": "Action.Submit", "title": labels.send, "data": {}}]
        if reply.skip is not None:
            actions.append(button(reply.skip))
        return [card([block(reply.prompt), field], actions)]
    if isinstance(reply, Invitation):
        return [card([block(reply.text)], [button(Option(reply.button, reply.action))])]
    if isinstance(reply, Image):
        uri = "data:image/png;base64," + base64.b64encode(reply.png).decode()
        return [card([{"type": "Image", "url": uri, "altText": reply.caption[:200]},
                      block(reply.caption)], [])]
    return []


def text_message(text: str, mentions: Sequence[Mention] = ()) -> Activity:
    """One message, however long (see `text_messages`)."""
    return _message(split_mentions(text, mentions))


def text_messages(text: str, mentions: Sequence[Mention] = (), limit: int = TEXT_SIZE
                  ) -> list[Activity]:
    """A text as messages Teams takes: cut where it is longer than `limit` (its escaped
    text and mention entities, in UTF-16 code units), at a paragraph's end, else a line's,
    else a word's, and only inside a word longer than a message. A mention is never cut."""
    pieces: list[str | Mention] = []
    for part in split_mentions(text, mentions):
        pieces += [part] if isinstance(part, Mention) else _words(part, limit // 2)
    messages: list[list[str | Mention]] = []
    current: list[str | Mention] = []
    size = 0
    for piece in pieces:
        cost = _cost(piece)
        while current and size + cost > limit:
            cut = _break(current)
            messages.append(current[:cut])
            current = current[cut:]
            size = sum(map(_cost, current))
        current.append(piece)
        size += cost
    messages.append(current)
    return [_message(_trimmed(parts)) for parts in messages if _trimmed(parts)]


def _words(text: str, longest: int) -> list[str]:
    """`text` in pieces that each end after a run of whitespace (the last may not); a
    word longer than `longest` is cut into pieces of that length."""
    pieces = re.findall(r"\S*\s*", text)
    return [piece[i:i + longest] for piece in pieces if piece
            for i in range(0, len(piece), longest)]


def _break(parts: list[str | Mention]) -> int:
    """Where to end a message made of `parts`: after the last paragraph's end in its later
    half, else after the last line's end there, else after all of them."""
    for mark in ("\n\n", "\n"):
        for index in range(len(parts) - 1, len(parts) // 2 - 1, -1):
            part = parts[index]
            if isinstance(part, str) and part.endswith(mark) and index + 1 < len(parts):
                return index + 1
    return len(parts)


def _trimmed(parts: list[str | Mention]) -> list[str | Mention]:
    """Without the whitespace a cut leaves at either end."""
    found = list(parts)
    while found and isinstance(found[0], str) and not found[0].strip():
        found.pop(0)
    while found and isinstance(found[-1], str) and not found[-1].strip():
        found.pop()
    if found and isinstance(found[0], str):
        found[0] = found[0].lstrip()
    if found and isinstance(found[-1], str):
        found[-1] = found[-1].rstrip()
    return found


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cost(piece: str | Mention) -> int:
    if isinstance(piece, Mention):
        return _units(json.dumps(_mention(piece), ensure_ascii=False)) * 2
    return _units(json.dumps(escape(piece), ensure_ascii=False)) - 2  # without the quotes


def _mention(mention: Mention) -> dict[str, Any]:
    tag = f"<at>{escape(mention.name)}</at>"
    return {"type": "mention", "text": tag, "mentioned": {
        "id": mention.user.rpartition(":")[2], "name": mention.name}}


def _message(parts: Sequence[str | Mention]) -> Activity:
    texts: list[str] = []
    entities: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, Mention):
            entity = _mention(part)
            texts.append(entity["text"])
            entities.append(entity)
        else:
            texts.append(escape(part))
    message: Activity = {"type": "message", "textFormat": "markdown", "text": "".join(texts)}
    if entities:
        message["entities"] = entities
    return message


def block(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": escape(text, html=False), "wrap": True}


def action_set(actions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "ActionSet", "actions": actions}


def button(option: Option, title: str | None = None) -> dict[str, Any]:
    return {"type": "Action.Submit", "title": (title or option.label)[:80],
            "data": {DATA_KEY: option.value, LABEL_KEY: option.label[:80]}}


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> Activity:
    content: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": "1.4",
                               "body": body}
    if actions:
        content["actions"] = actions
    return {"type": "message", "attachments": [{"contentType": CARD, "content": content}]}


def chosen_card(text: str) -> Activity:
    """A pressed question, redrawn with the choice and without its buttons."""
    return card([block(text)], [])



def too_big(activity: Activity) -> bool:
    """Whether Teams would refuse the message as too big (413 MessageSizeTooBig): its
    JSON without data: images, counted in UTF-16 code units."""
    text = re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "", json.dumps(
        activity, ensure_ascii=False))
    return len(text.encode("utf-16-le")) // 2 > MAX_SIZE
