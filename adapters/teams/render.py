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
MAX_SIZE = 80_000  # Teams takes ~100 KB of a message (UTF-16, data: images not counted)
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
        return [text_message(reply.text, reply.mentions)]
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
    parts: list[str] = []
    entities: list[dict[str, Any]] = []
    for part in split_mentions(text, mentions):
        if isinstance(part, Mention):
            tag = f"<at>{escape(part.name)}</at>"
            parts.append(tag)
            entities.append({"type": "mention", "text": tag, "mentioned": {
                "id": part.user.rpartition(":")[2], "name": part.name}})
        else:
            parts.append(escape(part))
    message: Activity = {"type": "message", "textFormat": "markdown", "text": "".join(parts)}
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
