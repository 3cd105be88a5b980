"""Block Kit for the engine's replies: pure functions, no I/O.

Every mrkdwn text is escaped (`&`, `<`, `>`): partnership, school and member names and typed
answers end up in it, and a `<!channel>` in any of them must ping nobody. The only markup
we add ourselves is a mention, `<@USER>`, for each `Mention` of a `Text`. Button labels are
plain_text, which Slack never parses for mentions. Messages keep within Block Kit's limits:
3000 characters per section, 50 blocks per message, 75 per button label.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adapters.slack.translate import split_ref
from bot.content import Content
from bot.flows.turn import MAX_TEXT
from bot.messages import (
    Choice,
    FreeText,
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

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_LABEL = 75
MAX_BUTTON_VALUE = 2000
MAX_MENU_VALUE = 150
MAX_MENU_OPTIONS = 100
MAX_BUTTONS = 5  # a choice with more options becomes a menu
BUTTON_PREFIX = "achtje_"  # action ids of buttons whose value goes to the engine
MENU = "achtje_menu"
OPEN_ANSWER = "achtje_open_answer"  # the button that opens the answer window
ANSWER_VIEW = "achtje_answer"  # callback id of that window
_ANSWER_BLOCK, _ANSWER_INPUT = "answer", "text"


@dataclass(frozen=True)
class Labels:
    """The adapter's own words, in the language of the person who will see them."""

    type_answer: str
    pick: str
    modal_title: str
    modal_label: str
    modal_hint: str
    submit: str
    cancel: str


def labels_for(content: Content, lang: str) -> Labels:
    def t(key: str) -> str:
        return content.text(key, lang)

    return Labels(
        type_answer=t("slack_type_answer"), pick=t("slack_pick"),
        modal_title=t("slack_modal_title"), modal_label=t("slack_modal_label"),
        modal_hint=t("slack_modal_hint"), submit=t("slack_modal_submit"),
        cancel=t("slack_modal_cancel"),
    )


@dataclass(frozen=True)
class Message:
    """One Slack message: the notification text and its blocks."""

    text: str
    blocks: list[Block]


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_USER_ID = re.compile(r"[UW][A-Z0-9]{1,20}")


def mrkdwn(text: str, mentions: Sequence[Mention] = ()) -> str:
    """Escaped mrkdwn in which each mention links (and notifies) the person.

    A mention's user is our `TEAM:USER` reference; one that is not a Slack user id shows
    the name, escaped like any other text.
    """
    return "".join(escape(part) if isinstance(part, str) else _mention(part)
                   for part in split_mentions(text, mentions))


def _mention(mention: Mention) -> str:
    _, user = split_ref(mention.user)
    return f"<@{user}>" if _USER_ID.fullmatch(user) else escape(mention.name)


def render(reply: Reply, labels: Labels) -> list[Message]:
    """The messages for one reply (more than one only for very long texts)."""
    blocks = _blocks(reply, labels)
    messages = []
    for start in range(0, len(blocks), MAX_BLOCKS):
        batch = blocks[start:start + MAX_BLOCKS]
        messages.append(Message(text=_notification(batch), blocks=batch))
    return messages


def _blocks(reply: Reply, labels: Labels) -> list[Block]:
    match reply:
        case Noted():
            return []  # nothing to show
        case Text():
            return sections(reply.text, reply.mentions)
        case Scale():
            return [*sections(reply.prompt), *_buttons(reply.options)]
        case Choice() if len(reply.options) <= MAX_BUTTONS:
            return [*sections(reply.prompt), *_buttons(reply.options)]
        case Choice():
            return [*sections(reply.prompt), *_menu(reply.options, labels.pick)]
        case FreeText():
            elements = [_button(labels.type_answer, "open", OPEN_ANSWER, primary=True)]
            if reply.skip is not None:
                elements.append(_button(reply.skip.label, reply.skip.value, BUTTON_PREFIX + "0"))
            return [*sections(reply.prompt), {"type": "actions", "elements": elements}]
        case Invitation():
            button = _button(reply.button, reply.action, BUTTON_PREFIX + "0", primary=True)
            return [*sections(reply.text), {"type": "actions", "elements": [button]}]
    raise TypeError(f"cannot render {type(reply).__name__} as blocks")


def sections(text: str, mentions: Sequence[Mention] = ()) -> list[Block]:
    """Section blocks of escaped mrkdwn, split at line ends where a text is too long."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": piece}}
            for piece in _pieces(mrkdwn(text or " ", mentions), MAX_SECTION)]


# What a cut must not fall inside: an entity such as &amp;, a mention such as <@U123>.
_UNSPLIT = (("&", ";", 6), ("<", ">", 24))


def _pieces(escaped: str, limit: int) -> list[str]:
    pieces = []
    while len(escaped) > limit:
        cut = escaped.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = max(cut, escaped.rfind(" ", 0, limit))
        if cut <= 0:
            cut = limit
            for opener, closer, longest in _UNSPLIT:
                start = escaped.rfind(opener, max(0, cut - longest), cut)
                if start > 0 and closer not in escaped[start:cut]:
                    cut = start
        pieces.append(escaped[:cut].rstrip() or escaped[:cut])
        escaped = escaped[cut:].lstrip("\n ")
    if escaped or not pieces:
        pieces.append(escaped or " ")
    return pieces


def _label(text: str) -> dict[str, Any]:
    shown = text if len(text) <= MAX_LABEL else text[:MAX_LABEL - 1].rstrip() + "…"
    return {"type": "plain_text", "text": shown or "-", "emoji": True}


def _button(label: str, value: str, action_id: str, primary: bool = False) -> Block:
    button = {"type": "button", "text": _label(label), "value": value, "action_id": action_id}
    if primary:
        button["style"] = "primary"
    return button


def _buttons(options: tuple[Option, ...]) -> list[Block]:
    """A row of buttons (none when no option fits)."""
    usable = [o for o in options if _fits(o, MAX_BUTTON_VALUE)]
    if not usable:
        return []
    return [{"type": "actions", "elements": [
        _button(option.label, option.value, f"{BUTTON_PREFIX}{n}")
        for n, option in enumerate(usable)
    ]}]


def _menu(options: tuple[Option, ...], placeholder: str) -> list[Block]:
    """A menu (none when no option fits)."""
    usable = [o for o in options if _fits(o, MAX_MENU_VALUE)]
    if not usable:
        return []
    if len(usable) > MAX_MENU_OPTIONS:
        logger.warning("a menu of %d options shows the first %d", len(usable), MAX_MENU_OPTIONS)
    return [{"type": "actions", "elements": [{
        "type": "static_select",
        "action_id": MENU,
        "placeholder": _label(placeholder),
        "options": [{"text": _label(o.label), "value": o.value}
                    for o in usable[:MAX_MENU_OPTIONS]],
    }]}]


def _fits(option: Option, limit: int) -> bool:
    if len(option.value) <= limit:
        return True
    logger.error("button value of %d characters left out: %.40s...", len(option.value),
                 option.value)
    return False


def _notification(blocks: list[Block]) -> str:
    for block in blocks:
        if block["type"] == "section":
            return str(block["text"]["text"])
    return " "


def pressed(blocks: list[Block], chosen: str) -> Message:
    """A message whose button was pressed, as it shows afterwards: its text without the
    buttons, and a line saying what was chosen (`chosen` is plain text)."""
    kept = [block for block in blocks if block.get("type") != "actions"][:MAX_BLOCKS - 1]
    line = escape(chosen)[:MAX_SECTION]
    kept.append({"type": "context", "elements": [{"type": "mrkdwn", "text": line}]})
    text = _notification(kept)
    return Message(text=line if text == " " else text, blocks=kept)


def answer_modal(labels: Labels, reference: str) -> dict[str, Any]:
    """The window for a typed answer; `reference` (the chat) comes back on submit."""
    return {
        "type": "modal",
        "callback_id": ANSWER_VIEW,
        "private_metadata": reference,
        "title": _label(labels.modal_title[:24]),
        "submit": _label(labels.submit[:24]),
        "close": _label(labels.cancel[:24]),
        "blocks": [{
            "type": "input",
            "block_id": _ANSWER_BLOCK,
            "label": _label(labels.modal_label),
            "hint": _label(labels.modal_hint),
            "element": {"type": "plain_text_input", "action_id": _ANSWER_INPUT,
                        "multiline": True, "max_length": MAX_TEXT},
        }],
    }


def modal_answer(view: dict[str, Any]) -> str | None:
    """What was typed in the answer window, or None if the view is not ours or empty."""
    try:
        value = view["state"]["values"][_ANSWER_BLOCK][_ANSWER_INPUT]["value"]
    except (KeyError, TypeError):
        return None
    return value if isinstance(value, str) and value.strip() else None
